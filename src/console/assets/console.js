// The console's only script: local times, the time fields of search forms,
// "select all", and refreshing the live part of a page. Pages work without it
// (times then read in UTC). It never builds markup from data: a refresh takes
// the server's own rendering of the same page.
(() => {
  'use strict';

  const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  const clock = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
  const sameDay = (a, b) => a.toDateString() === b.toDateString();

  /** Every <time datetime> in the viewer's zone; today's as a time of day. */
  function localTimes(root) {
    const now = new Date();
    for (const el of root.querySelectorAll('time[datetime]')) {
      const date = new Date(el.getAttribute('datetime'));
      if (Number.isNaN(date.getTime())) continue;
      el.textContent = sameDay(date, now) ? `today ${clock.format(date)}` : full.format(date);
      el.title = date.toISOString();
    }
  }

  const pad = (n) => String(n).padStart(2, '0');
  const toLocalInput = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;

  /** A datetime-local field is the viewer's time; the form sends the hidden field beside it, in UTC. */
  function timeFields() {
    for (const input of document.querySelectorAll('input[data-utc]')) {
      const hidden = input.form && input.form.querySelector(`input[type="hidden"][name="${input.dataset.utc}"]`);
      if (!hidden) continue;
      if (hidden.value) input.value = toLocalInput(new Date(hidden.value));
      const sync = () => {
        const date = new Date(input.value);
        hidden.value = input.value && !Number.isNaN(date.getTime()) ? date.toISOString() : '';
      };
      input.addEventListener('change', sync);
      input.form.addEventListener('submit', sync);
    }
  }

  function selectAll(root) {
    for (const box of root.querySelectorAll('input[data-select-all]')) {
      box.addEventListener('change', () => {
        for (const other of box.form.querySelectorAll(`input[type="checkbox"][name="${box.dataset.selectAll}"]`)) other.checked = box.checked;
      });
    }
  }

  /**
   * The element #live with data-refresh="ms" is fetched again every so often and
   * replaced by the server's new rendering. Not while the tab is hidden, while
   * focus is inside it (a keyboard user would lose their place), or while boxes
   * are ticked in it (a selection would be lost).
   */
  function live() {
    const region = document.getElementById('live');
    const every = region ? Number(region.dataset.refresh) : 0;
    if (!every) return;
    setTimeout(async () => {
      const busy = document.hidden || region.contains(document.activeElement) || region.querySelector('input[type="checkbox"]:checked');
      if (!busy) {
        try {
          const res = await fetch(location.href, { credentials: 'same-origin', redirect: 'manual', headers: { accept: 'text/html' } });
          // The session ended: the server's answer is a redirect to sign in.
          if (res.type === 'opaqueredirect' || res.status === 403) return location.reload();
          if (res.ok) {
            const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('live');
            if (next) {
              localTimes(next);
              region.replaceWith(document.adoptNode(next));
              selectAll(next);
            }
          }
        } catch {
          // Offline for a moment: the next round tries again.
        }
      }
      live();
    }, every);
  }

  localTimes(document);
  timeFields();
  selectAll(document);
  live();
})();
