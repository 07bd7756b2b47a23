"""Hand-made signed requests, for what the SDKs will not do: form bodies, GET, XML, stale
timestamps, replayed nonces, broken signatures. Signing follows slb-api.md §3 and §4."""

import base64
import datetime
import hashlib
import hmac
import urllib.parse
import uuid

import requests


def enc(text):
    return urllib.parse.quote(str(text), safe="-_.~")


def utc_timestamp(offset_seconds=0):
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_signature(method, params, secret):
    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode(), string_to_sign


class Response:
    def __init__(self, http_response):
        self.status = http_response.status_code
        self.headers = http_response.headers
        self.text = http_response.text

    def json(self):
        import json
        return json.loads(self.text)


class RawClient:
    def __init__(self, port, access_key_id, secret, region="cn-hangzhou", ca_file=None):
        """ca_file: the server answers HTTPS (serve --tls), with a certificate of this CA."""
        self.base = f"{'https' if ca_file else 'http'}://127.0.0.1:{port}/"
        self.access_key_id = access_key_id
        self.secret = secret
        self.region = region
        self.session = requests.Session()
        # Per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify = ca_file or True

    def common(self, action, timestamp=None, nonce=None, fmt="JSON", version="2014-05-15"):
        params = {
            "Action": action,
            "Version": version,
            "AccessKeyId": self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": timestamp or utc_timestamp(),
        }
        if fmt is not None:
            params["Format"] = fmt
        return params

    def v1(self, action, api_params=None, method="POST", body=False, fmt="JSON",
           timestamp=None, nonce=None, secret=None, tamper=None, region=True, drop=(),
           extra_common=None, headers=None, version="2014-05-15"):
        """A V1-signed request. body=True puts the API parameters in a form body (as terraform's
        tea-rpc client does) and only the common ones in the URL."""
        api_params = dict(api_params or {})
        if region and "RegionId" not in api_params:
            api_params["RegionId"] = self.region
        common = self.common(action, timestamp=timestamp, nonce=nonce, fmt=fmt, version=version)
        common.update(extra_common or {})
        for name in drop:
            common.pop(name, None)
        signature, _ = v1_signature(method, {**common, **api_params}, secret or self.secret)
        common["Signature"] = signature
        if tamper:
            tamper(common, api_params)
        if body:
            return self.send(method, common, api_params, headers=headers)
        return self.send(method, {**common, **api_params}, None, headers=headers)

    def send(self, method, query, form, headers=None, raw_body=None):
        url = self.base + "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        data = raw_body
        hdrs = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form, quote_via=urllib.parse.quote)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        return Response(self.session.request(method, url, data=data, headers=hdrs, timeout=30,
                                             verify=self.verify))

    def v3(self, action, api_params=None, date=None, nonce=None, secret=None, body_params=None,
           signed_headers=None):
        """A V3-signed (ACS3-HMAC-SHA256) request with the API parameters in the query."""
        query = dict(api_params or {})
        query.setdefault("RegionId", self.region)
        body = b""
        headers = {
            "host": f"127.0.0.1:{self.base.split(':')[2].rstrip('/')}",
            "x-acs-action": action,
            "x-acs-version": "2014-05-15",
            "x-acs-date": date or utc_timestamp(),
            "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        }
        if body_params is not None:
            body = urllib.parse.urlencode(body_params, quote_via=urllib.parse.quote).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        headers["x-acs-content-sha256"] = hashlib.sha256(body).hexdigest()
        names = sorted(signed_headers or headers.keys())
        canonical_query = "&".join(f"{k}={enc(v)}" for k, v in sorted(query.items()))
        canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
        canonical_request = "\n".join([
            "POST", "/", canonical_query, canonical_headers, ";".join(names),
            headers["x-acs-content-sha256"]])
        string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode()).hexdigest()
        signature = hmac.new((secret or self.secret).encode(), string_to_sign.encode(),
                             hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"ACS3-HMAC-SHA256 Credential={self.access_key_id},"
                                    f"SignedHeaders={';'.join(names)},Signature={signature}")
        url = self.base + "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        return Response(self.session.post(url, data=body, headers=headers, timeout=30,
                                          verify=self.verify))
