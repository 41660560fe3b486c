"""One contract for the stores of media bytes: files (embedded), the database (SQLite here,
PostgreSQL in scaled mode) and an S3-compatible bucket (a real moto_server)."""

from __future__ import annotations

import pytest

from rescue.blobs import BlobStoreError, FileBlobStore, SqlBlobStore
from rescue.s3blobs import S3BlobStore
from tests.integration.backends import OnPostgres, OnSqlite


class BlobStoreContract:
    def test_put_get_replace_delete(self, store) -> None:
        assert store.get("med-0001") is None
        store.put("med-0001", b"\xff\xd8\xff" + bytes(range(256)) * 40)
        assert store.get("med-0001") == b"\xff\xd8\xff" + bytes(range(256)) * 40
        store.put("med-0001.thumb", b"small")
        store.put("med-0001", b"again")  # a retried write replaces, never duplicates
        assert store.get("med-0001") == b"again" and store.get("med-0001.thumb") == b"small"
        store.delete("med-0001")
        store.delete("med-0001")  # twice: no error
        assert store.get("med-0001") is None and store.get("med-0001.thumb") == b"small"

    def test_empty_and_large_bodies(self, store) -> None:
        big = bytes(range(251)) * 20_000  # ~5 MB
        store.put("med-big", big)
        assert store.get("med-big") == big
        store.put("med-empty", b"")
        assert store.get("med-empty") == b""

    @pytest.mark.parametrize("key", ["../etc/passwd", "a/b", "", "A" * 200, "med-1\x00"])
    def test_keys_that_could_escape_are_refused(self, store, key) -> None:
        with pytest.raises(ValueError):
            store.put(key, b"x")


class TestFiles(BlobStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return FileBlobStore(tmp_path / "media")

    def test_a_full_disk_is_an_unavailable_store(self, tmp_path) -> None:
        (tmp_path / "media").write_text("not a directory")
        with pytest.raises(BlobStoreError):
            FileBlobStore(tmp_path / "media").put("med-0001", b"x")


class _Database(BlobStoreContract):
    @pytest.fixture
    def store(self, engine):
        return SqlBlobStore(engine)


class TestSqlite(_Database, OnSqlite):
    pass


class TestPostgres(_Database, OnPostgres):
    pass


class TestS3(BlobStoreContract):
    @pytest.fixture
    def store(self, s3_url):
        s = S3BlobStore(s3_url, "test-key", "test-secret")
        s.ensure_bucket()
        s.ensure_bucket()  # an existing bucket is kept
        return s

    def test_an_unreachable_store_is_unavailable(self) -> None:
        from tests.conftest import free_port

        s = S3BlobStore(f"http://127.0.0.1:{free_port()}/b", "k", "s")
        with pytest.raises(BlobStoreError):
            s.put("med-1", b"x")
