// The words mail clients write around quoted history, in the languages the
// reply corpus (test/fixtures/replies) covers: English, German, French,
// Spanish, Portuguese and Dutch, plus Italian and the Nordic forms where they
// cost one word. Every pattern is tested against one line, or at most a few
// joined lines, of bounded length (reply.ts), and none nests quantifiers, so
// no input makes them backtrack for long.

/** The opening word of an attribution line ("On … wrote:", "Am … schrieb …:", "Le … a écrit :"). */
export const ATTRIBUTION_START = /^(?:On|Le|El|Em|Am|Op|Il|In data|Den|På|W dniu|Dnia)\s/;

const WROTE = [
  'wrote', 'writes', 'a écrit', 'a ecrit', 'escribió', 'escribio', 'escreveu', 'schrieb', 'schreef',
  'het volgende geschreven', 'geschreven', 'ha scritto', 'scrisse', 'skrev', 'napisał', 'pisze',
].join('|');

/** The attribution's verb at the very end: "… wrote:", "… a écrit :", "… escreveu:". */
export const ENDS_WITH_WROTE = new RegExp(`\\s(?:${WROTE})\\s*:?$`, 'i');

/**
 * German and Dutch put the name after the verb: "Am … schrieb Name <addr>:",
 * "Op … schreef Name <addr>:". The line then ends in a colon.
 */
export const NAME_AFTER_WROTE = /\s(?:schrieb|schreef|skrev)\s.*:$/;

/** "Name <addr> wrote:" with no opening word; an attribution only when quoted lines follow. */
export const BARE_WROTE = new RegExp(`\\S\\s(?:${WROTE})\\s*:$`, 'i');

/** The first field of a quoted header block (Outlook, forwards): "From: …", "Von: …", "De : …". */
export const HEADER_BLOCK_FROM = /^\*?(?:From|Von|De|Van|Da|Fra|Från|Od)\s?:\*?\s*\S/;

/** Further fields of such a block: sent, date, to, cc and subject in each language. */
export const HEADER_BLOCK_FIELD = new RegExp(
  `^\\*?(?:${[
    'Sent', 'Date', 'To', 'Cc', 'Subject',
    'Gesendet', 'Datum', 'An', 'Betreff',
    'Envoyé', 'Envoye', 'À', 'A', 'Objet',
    'Enviado', 'Enviada em', 'Enviado em', 'Fecha', 'Para', 'Asunto', 'Assunto', 'Data',
    'Verzonden', 'Verstuurd', 'Aan', 'Onderwerp',
    'Inviato', 'Oggetto', 'Sendt', 'Skickat', 'Til', 'Emne', 'Ämne',
  ].join('|')})\\s?:`,
  'i',
);

/** A line that stands alone between the reply and the history it carries. */
export const HISTORY_SEPARATOR = new RegExp(
  `^[-_=*]{2,}\\s*(?:${[
    'Original Message', 'Reply Message', 'Forwarded message', 'Forwarded Message',
    'Ursprüngliche Nachricht', 'Weitergeleitete Nachricht', 'Originalnachricht',
    "Message d'origine", "Message d’origine", 'Message transféré', 'Message transmis',
    'Mensaje original', 'Mensaje reenviado', 'Mensagem original', 'Mensagem encaminhada',
    'Oorspronkelijk bericht', 'Doorgestuurd bericht', 'Messaggio originale', 'Messaggio inoltrato',
  ].join('|')})\\s*[-_=*]{2,}$`,
  'i',
);

/** How Apple Mail and others introduce a forwarded message. */
export const FORWARD_INTRO = new RegExp(
  `^(?:${[
    'Begin forwarded message', 'Anfang der weitergeleiteten Nachricht', 'Début du message réexpédié',
    'Inicio del mensaje reenviado', 'Início da mensagem reencaminhada', 'Início da mensagem encaminhada',
    'Begin doorgestuurd bericht', 'Inizio messaggio inoltrato',
  ].join('|')})\\s?:$`,
  'i',
);

/** Outlook's rule above the header block of the message replied to. */
export const RULE_LINE = /^[_-]{8,}$/;

/** The signature delimiter "-- " (RFC 3676 4.3), often sent without its space. */
export const SIGNATURE_DELIMITER = /^--\s*$/;

/** A mobile client's footer: "Sent from my iPhone", "Von meinem iPhone gesendet", … */
export const MOBILE_FOOTER = new RegExp(
  `^(?:${[
    'Sent from', 'Sent with', 'Get Outlook for', 'Envoyé de mon', 'Envoyé depuis', 'Envoyé à partir de',
    'Von meinem', 'Gesendet von', 'Gesendet mit', 'Enviado desde', 'Enviado de mi', 'Enviado do meu',
    'Enviado a partir do', 'Verstuurd vanaf', 'Verzonden vanaf', 'Verzonden met', 'Inviato da',
  ].join('|')})\\s`,
  'i',
);

/** A sign-off on a line of its own, which starts the signature block when a name follows. */
export const VALEDICTION = new RegExp(
  `^(?:${[
    'best', 'best regards', 'best wishes', 'kind regards', 'warm regards', 'warmest regards', 'regards',
    'many thanks', 'thanks', 'thank you', 'thanks again', 'thx', 'cheers', 'all the best', 'sincerely',
    'yours', 'yours sincerely', 'yours truly', 'take care',
    'mit freundlichen grüßen', 'mit freundlichen grüssen', 'freundliche grüße', 'freundliche grüsse',
    'viele grüße', 'viele grüsse', 'beste grüße', 'liebe grüße', 'herzliche grüße', 'gruß', 'grüße', 'lg', 'vg', 'mfg', 'danke',
    'cordialement', 'bien cordialement', 'bien à vous', 'salutations', 'sincères salutations', 'amicalement', 'merci', 'bonne journée',
    'saludos', 'un saludo', 'saludos cordiales', 'cordiales saludos', 'atentamente', 'un abrazo', 'gracias', 'muchas gracias',
    'atenciosamente', 'att', 'abraços', 'abraço', 'cumprimentos', 'obrigado', 'obrigada',
    'met vriendelijke groet', 'met vriendelijke groeten', 'vriendelijke groet', 'groeten', 'groet', 'mvg', 'bedankt',
    'distinti saluti', 'cordiali saluti', 'saluti', 'grazie',
  ].join('|')})\\s*[,.!]?$`,
  'i',
);
