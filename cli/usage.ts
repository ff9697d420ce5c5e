// The usage text of `meshlet run`, shared by `meshlet run --help` and `meshlet help`.

export const RUN_USAGE = `usage: meshlet run [flags] [-- command args...]
  -a, --app-id ID                 app-id of this app (required)
  -p, --app-port N                port the app listens on (none: sidecar only)
  -H, --dapr-http-port N          Dapr HTTP API port (default 3500, else a free port)
  -G, --dapr-grpc-port N          reported to the app as DAPR_GRPC_PORT (free port by default)
  -I, --dapr-internal-grpc-port N sidecar-to-sidecar port (ephemeral by default)
  -M, --metrics-port N            Prometheus /metrics (default 9090 when free, else a free port; DAPR_METRICS_PORT)
      --enable-metrics=false      no metrics port, nothing recorded (also the Configuration's spec.metrics.enabled)
  -P, --app-protocol P            http (default)
      --app-channel-address A     where the app listens (default 127.0.0.1)
  -c, --config FILE               a Dapr Configuration (name resolution, mtls, accessControl, tracing, metrics, logging)
      --enable-mtls               accepted (mTLS is on unless the Configuration sets spec.mtls.enabled: false)
      --sentry-address HOST:PORT  get the workload certificate from \`meshlet sentry\` (token: DAPR_SENTRY_TOKEN_FILE)
      --cert-dir DIR              use certificates someone else writes and renews (cert-manager, SPIRE); watched
      --resources-path DIR        Dapr resources (Components); repeatable; -d/--components-path too
      --max-body-size SIZE        request body limit (default 4Mi)
      --read-buffer-size SIZE     largest request head, 431 above it (default 16Ki; a bare number is KiB)
      --dapr-listen-addresses A   comma-separated API listen addresses (default 127.0.0.1)
      --app-timeout DUR           meshlet: max wait for response headers per try (default 60s, 0 = none)
      --connect-timeout DUR       meshlet: max wait for a new connection to a peer or the app (default 2s)
      --enable-app-health-check   probe the app; unhealthy takes this instance out of discovery
      --app-health-check-path P   HTTP probe path (default /healthz; "" probes by TCP connect)
      --app-health-probe-interval S, --app-health-probe-timeout MS, --app-health-threshold N
                                  probe every S seconds (5), wait MS (500), N failures in a row (3)
      --log-level L               debug|info|warn|error|fatal (default info)
      --log-as-json               one JSON object per log line (Dapr's keys: time, level, msg, scope, app_id, instance, type, ver)
      --enable-api-logging        one info line per API call (also the Configuration's logging.apiLogging)`;
