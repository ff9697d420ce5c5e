# The seed's "pythonapp", in Python with only the standard library: every second it posts
# {"data":{"orderId":n}} to its sidecar's /neworder with the header dapr-app-id: nodeapp, so the
# sidecar invokes nodeapp. The sidecar comes from DAPR_HTTP_ENDPOINT, else DAPR_HTTP_PORT.
# ORDER_INTERVAL_MS changes the pace (tests use 200).
import json
import os
import sys
import time
import urllib.error
import urllib.request

sidecar = os.environ.get("DAPR_HTTP_ENDPOINT") or "http://localhost:%s" % os.environ.get("DAPR_HTTP_PORT", "3500")
every = int(os.environ.get("ORDER_INTERVAL_MS", "1000")) / 1000.0

n = 0
while True:
    n += 1
    body = json.dumps({"data": {"orderId": n}}).encode()
    req = urllib.request.Request(sidecar + "/neworder", data=body, method="POST",
                                 headers={"content-type": "application/json", "dapr-app-id": "nodeapp"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            print("order %d: %d" % (n, r.status), flush=True)
    except urllib.error.HTTPError as e:
        print("order %d: %d" % (n, e.code), flush=True)
    except Exception as e:  # the sidecar not up yet, a refused connection
        print("order %d: %s" % (n, e), flush=True)
    sys.stdout.flush()
    time.sleep(every)
