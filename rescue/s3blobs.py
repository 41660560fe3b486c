"""Media bytes in an S3-compatible object store (MinIO, Ceph, a cloud bucket), for scaled
deployments that would rather not keep photos and frames in the database.

Configured with `RESCUE_MEDIA_S3_URL=http(s)://HOST[:PORT]/BUCKET` (path-style, as MinIO and
Ceph serve it), `RESCUE_MEDIA_S3_KEY`, `RESCUE_MEDIA_S3_SECRET` and optionally
`RESCUE_MEDIA_S3_REGION`. Requests are signed with AWS Signature Version 4 here (three verbs
on one bucket need no SDK); the bucket is created at start when it does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote, urlparse

import requests

from rescue.blobs import BlobStore, BlobStoreError, check_key

TIMEOUT_S = 30


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class S3BlobStore(BlobStore):
    def __init__(self, url: str, key: str, secret: str, region: str = "us-east-1", *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        u = urlparse(url)
        self.base = f"{u.scheme}://{u.netloc}"
        self.host = u.netloc
        self.bucket = u.path.strip("/")
        self.key = key
        self.secret = secret
        self.region = region
        self.clock = clock
        self.http = requests.Session()

    # ------------------------------------------------------------------ signing

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        now = self.clock().astimezone(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = hashlib.sha256(body).hexdigest()
        headers = {"host": self.host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)),
                               "", signed, payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = _hmac(_hmac(_hmac(_hmac(f"AWS4{self.secret}".encode(), day), self.region), "s3"),
                  "aws4_request")
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.key}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={signature}")
        return headers

    def _call(self, method: str, key: str | None, body: bytes = b"") -> requests.Response:
        path = f"/{quote(self.bucket)}" + ("" if key is None else f"/{quote(check_key(key))}")
        try:
            return self.http.request(method, self.base + path, data=body or None,
                                     headers=self._headers(method, path, body),
                                     timeout=TIMEOUT_S)
        except requests.RequestException as e:
            raise BlobStoreError(f"the media store at {self.base} did not answer: "
                                 f"{type(e).__name__}") from None

    @staticmethod
    def _fail(r: requests.Response, what: str) -> BlobStoreError:
        return BlobStoreError(f"the media store refused to {what}: HTTP {r.status_code}")

    # ------------------------------------------------------------------ the store

    def ensure_bucket(self) -> None:
        r = self._call("HEAD", None)
        if r.status_code == 404:
            r = self._call("PUT", None)
        if r.status_code not in (200, 204):
            raise self._fail(r, f"open bucket {self.bucket!r}")

    def put(self, key: str, data: bytes) -> None:
        r = self._call("PUT", key, data)
        if r.status_code not in (200, 201, 204):
            raise self._fail(r, "store media")

    def get(self, key: str) -> bytes | None:
        r = self._call("GET", key)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise self._fail(r, "read media")
        return r.content

    def delete(self, key: str) -> None:
        r = self._call("DELETE", key)
        if r.status_code not in (200, 204, 404):
            raise self._fail(r, "delete media")
