import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * OpenTelemetry tracing, off unless the standard OTEL_* variables ask for it.
 * Contexts travel explicitly as W3C `traceparent` strings: through the job in
 * Redis from the SMTP transaction to each delivery attempt, and in the webhook
 * request's header. No global state, so several services can share a process.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** Starts a span, as a child of `parent` (a traceparent) when given. */
  start(name: string, options: { kind: 'server' | 'client' | 'internal'; attributes?: Attributes; parent?: string | undefined }): TracedSpan;
  /** Sends what is buffered; idempotent. */
  shutdown(): Promise<void>;
}

export interface TracedSpan {
  /** This span as a W3C traceparent, to hand to the next step; undefined when tracing is off. */
  readonly traceparent: string | undefined;
  setAttributes(attributes: Attributes): void;
  /** Ends the span, as an error when `error` is given. */
  end(error?: string): void;
}

/** Per the OpenTelemetry environment specification: on when an OTLP endpoint or exporter is named. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined) return exporter.split(',').map((e) => e.trim()).includes('otlp');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

const propagator = new W3CTraceContextPropagator();
const KINDS = { server: SpanKind.SERVER, client: SpanKind.CLIENT, internal: SpanKind.INTERNAL } as const;

const NOOP_SPAN: TracedSpan = { traceparent: undefined, setAttributes: () => {}, end: () => {} };
const DISABLED: Tracing = { enabled: false, start: () => NOOP_SPAN, shutdown: async () => {} };

export function createTracing(env: NodeJS.ProcessEnv, version: string): Tracing {
  if (!tracingRequested(env)) return DISABLED;
  // The exporter reads the rest of OTEL_EXPORTER_OTLP_* (headers, timeout) itself.
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/$/, '');
  const url = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base}/v1/traces` : undefined);
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'mxpost', 'service.version': version }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(url ? { url } : {}),
        ...(Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {}),
      }),
    ],
  });
  const tracer: Tracer = provider.getTracer('mxpost', version);
  let shutdown: Promise<void> | null = null;

  return {
    enabled: true,
    start(name, options) {
      const parent: Context = options.parent
        ? propagator.extract(ROOT_CONTEXT, { traceparent: options.parent }, { get: (c, k) => c[k as keyof typeof c], keys: (c) => Object.keys(c) })
        : ROOT_CONTEXT;
      const span: Span = tracer.startSpan(name, { kind: KINDS[options.kind], ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => (c[k] = v) });
      return {
        traceparent: carrier.traceparent,
        setAttributes: (attributes) => span.setAttributes(attributes),
        end(error) {
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          span.end();
        },
      };
    },
    shutdown() {
      shutdown ??= provider.shutdown().catch(() => {});
      return shutdown;
    },
  };
}
