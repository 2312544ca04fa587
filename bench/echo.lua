-- wrk script: POST a small JSON body (a cart line) to the URL given on the command line (…/v1/echo).
wrk.method = "POST"
wrk.body = '{"sku":"TEE-RED-M","quantity":2,"customisation":{"print":"Ada"}}'
wrk.headers["Content-Type"] = "application/json"
