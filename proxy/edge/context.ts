// The listener half of the request path: what the edge (API) and inbound (peer) steps learn about
// one request as it passes down their list, and the shapes of those steps. The lists themselves
// are written in proxy/stack.ts.

import type { CallContext, ProxyRequest } from "../../core/call.ts";
import type { HeaderList } from "../../core/header-list.ts";
import type { Incoming } from "../../core/incoming.ts";
import type { Route } from "../route.ts";

/** Who is calling, as the step that established it saw it. */
export interface Caller {
  readonly appId: string;
  readonly namespace: string;
  /** From the certificate; empty when unverified. */
  readonly trustDomain: string;
  /** True only when proven (a verified certificate); headers alone never verify a caller. */
  readonly verified: boolean;
}

/** Filled in by the steps, outermost first; each field names the step that sets it. */
export interface EdgeContext {
  /** route: where the request goes (API endpoint, invocation, or a routing error). */
  route: Route | null;
  /** peer identity / caller stamp: who calls. */
  caller: Caller | null;
  /** header hygiene: the headers to send on. */
  out: HeaderList | null;
  /** trace context: the traceparent the call carries; `respond` puts it on the answer. */
  traceparent: string | null;
  /** route: the method path and raw query for the app. */
  path: string;
  query: string;
  /** route: the context of the call to the target (app-id, namespace, the client's signal). */
  call: CallContext | null;
  /** body limit: the body to send on. */
  body: ProxyRequest["body"];
}

export function newEdgeContext(): EdgeContext {
  return { route: null, caller: null, out: null, traceparent: null, path: "/", query: "", call: null, body: null };
}

export type EdgeCall = (req: Incoming, ctx: EdgeContext) => Promise<Response>;
export type EdgeLayer = (next: EdgeCall) => EdgeCall;

/** One step of a listener's list: its name, why it sits where it does, what it does, and its layer. */
export interface EdgeStep<D> {
  readonly name: string;
  readonly why: string;
  readonly describe: string;
  readonly layer: (d: D) => EdgeLayer;
}

/** Builds a listener's handler from its steps (outermost first) over a terminal. */
export function composeEdge<D>(steps: readonly EdgeStep<D>[], d: D, terminal: EdgeCall): (req: Incoming) => Promise<Response> {
  let call = terminal;
  for (let i = steps.length - 1; i >= 0; i--) call = steps[i]!.layer(d)(call);
  return (req) => call(req, newEdgeContext());
}
