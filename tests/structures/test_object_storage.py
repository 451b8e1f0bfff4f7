"""Uploaded files on S3-compatible object storage, against a local S3 server (moto in
server mode) started by the test itself: attachments, bank-detail proofs and ticket files
are stored in a private bucket under a random name, downloaded through the portal by
those who may see them (streamed, never buffered whole), refused to another structure's
users, and the readiness probe reports the storage down when the service stops."""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import uuid
from io import BytesIO
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto.server import ThreadedMotoServer
from pypdf import PdfWriter

from structures.models import Attachment, BankAccount
from support.models import TicketAttachment
from tests.support.test_tickets import submit_data

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {"access_key": "portail-test", "secret_key": "portail-test-secret", "region_name": "eu-west-3"}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _s3_options(endpoint, bucket):
    """The storage options config/settings.py builds from the S3_* variables."""
    from botocore.config import Config

    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        **CREDENTIALS,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        "client_config": Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            connect_timeout=2,
            read_timeout=20,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    }


@pytest.fixture(scope="module")
def s3_server():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield server, f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, settings):
    _server, endpoint = s3_server
    name = f"portail-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name=CREDENTIALS["region_name"],
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options(endpoint, name)},
    }
    return client, name


def _keys(client, name):
    return [item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])]


def _pdf_bytes():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _assert_private(client, name, key):
    grants = client.get_object_acl(Bucket=name, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)


def _download(response):
    # Reading the stream to its end closes the response (and the S3 body).
    return b"".join(response.streaming_content)


def test_uploaded_files_use_the_bucket_storage(bucket):
    from storages.backends.s3 import S3Storage

    _s3, name = bucket
    assert isinstance(storages["default"], S3Storage)
    assert storages["default"].bucket_name == name
    assert Attachment._meta.get_field("file").storage.bucket_name == name


def test_attachment_goes_to_the_bucket_and_only_the_structures_users_download_it(
    client, bucket, structure, principal_manager, consultation_user, other_structure_user
):
    s3, name = bucket
    content = _pdf_bytes()
    client.force_login(principal_manager)
    response = client.post(
        reverse("structures:attachment_create"),
        {"structure": structure.pk, "files": SimpleUploadedFile("carte grise.pdf", content)},
    )
    assert response.status_code == 302

    attachment = Attachment.objects.get()
    assert re.fullmatch(r"attachments/[0-9a-f]{32}\.pdf", attachment.file.name)
    assert _keys(s3, name) == [attachment.file.name]
    assert s3.get_object(Bucket=name, Key=attachment.file.name)["Body"].read() == content
    _assert_private(s3, name, attachment.file.name)

    url = reverse("structures:attachment_download", args=[attachment.pk])
    client.force_login(consultation_user)
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="carte grise.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Length"] == str(len(content))
    assert _download(download) == content

    client.force_login(other_structure_user)
    assert client.get(url).status_code == 404


def test_bank_proof_goes_to_the_bucket_and_only_the_structures_users_download_it(
    client, bucket, structure, principal_manager, consultation_user, other_structure_user
):
    s3, name = bucket
    content = _pdf_bytes()
    client.force_login(principal_manager)
    response = client.post(
        reverse("structures:bank_create"),
        {
            "name": "IBAN siège",
            "structure": structure.pk,
            "kind": "IBAN",
            "country": "FR",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            "bic": "BNPAFRPP",
            "proof": SimpleUploadedFile("RIB société.pdf", content, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302

    bank_account = BankAccount.objects.get()
    assert re.fullmatch(r"bank-proofs/[0-9a-f]{32}\.pdf", bank_account.proof.name)
    assert _keys(s3, name) == [bank_account.proof.name]
    _assert_private(s3, name, bank_account.proof.name)

    url = reverse("structures:bank_proof", args=[bank_account.pk])
    client.force_login(consultation_user)
    download = client.get(url)
    assert download.status_code == 200
    assert "filename*=utf-8''RIB%20soci%C3%A9t%C3%A9.pdf" in download["Content-Disposition"]
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert _download(download) == content

    client.force_login(other_structure_user)
    assert client.get(url).status_code == 404


def test_ticket_attachment_goes_to_the_bucket_and_stays_with_the_tickets_readers(
    client, bucket, structure, principal_manager, other_structure_user
):
    s3, name = bucket
    content = _pdf_bytes()
    client.force_login(principal_manager)
    response = client.post(
        "/support/tickets/nouveau/",
        {**submit_data(structure=structure.pk), "files": [SimpleUploadedFile("facture.pdf", content)]},
    )
    assert response.status_code == 302

    attachment = TicketAttachment.objects.get()
    assert re.fullmatch(r"tickets/[0-9a-f]{32}", attachment.file.name)
    assert _keys(s3, name) == [attachment.file.name]
    _assert_private(s3, name, attachment.file.name)

    url = reverse("support:ticket_attachment", args=[attachment.ticket_id, attachment.pk])
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="facture.pdf"'
    assert _download(download) == content

    client.force_login(other_structure_user)
    assert client.get(url).status_code == 404


def test_download_streams_from_the_bucket_without_buffering_the_whole_file(
    client, bucket, structure, principal_manager, monkeypatch
):
    from storages.backends.s3 import S3File

    content = b"".join(f"ligne {number:06d}\n".encode() for number in range(40_000))  # ~520 KB
    client.force_login(principal_manager)
    client.post(
        reverse("structures:attachment_create"),
        {"structure": structure.pk, "files": SimpleUploadedFile("journal.txt", content)},
    )
    attachment = Attachment.objects.get()

    def buffer_whole_file(self):
        raise AssertionError("the whole object was copied into a buffer")

    monkeypatch.setattr(S3File, "_get_file", buffer_whole_file)
    download = client.get(reverse("structures:attachment_download", args=[attachment.pk]))

    chunks = list(download.streaming_content)
    assert b"".join(chunks) == content
    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024


def test_missing_object_is_a_404_not_an_error(
    client, bucket, structure, principal_manager, consultation_user
):
    s3, name = bucket
    client.force_login(principal_manager)
    client.post(
        reverse("structures:attachment_create"),
        {"structure": structure.pk, "files": SimpleUploadedFile("carte grise.pdf", _pdf_bytes())},
    )
    attachment = Attachment.objects.get()
    s3.delete_object(Bucket=name, Key=attachment.file.name)

    client.force_login(consultation_user)
    assert client.get(reverse("structures:attachment_download", args=[attachment.pk])).status_code == 404


def test_object_deleted_while_the_download_starts_is_a_404(
    client, bucket, structure, principal_manager, monkeypatch
):
    from storages.backends.s3 import S3File

    s3, name = bucket
    client.force_login(principal_manager)
    client.post(
        reverse("structures:attachment_create"),
        {"structure": structure.pk, "files": SimpleUploadedFile("carte grise.pdf", _pdf_bytes())},
    )
    attachment = Attachment.objects.get()
    opened = S3File.__init__

    def open_then_lose_the_object(self, *args, **kwargs):
        opened(self, *args, **kwargs)
        s3.delete_object(Bucket=name, Key=attachment.file.name)

    monkeypatch.setattr(S3File, "__init__", open_then_lose_the_object)

    assert client.get(reverse("structures:attachment_download", args=[attachment.pk])).status_code == 404


def test_readyz_reports_the_storage_down_when_the_s3_service_stops(client, db, settings):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name="us-east-1",
    ).create_bucket(Bucket="portail-ready")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": _s3_options(endpoint, "portail-ready"),
        },
    }
    try:
        before = client.get("/readyz")
    finally:
        server.stop()
    after = client.get("/readyz")

    assert before.status_code == 200
    assert before.json()["checks"]["storage"]["status"] == "ok"
    assert after.status_code == 503
    assert after.json()["checks"]["storage"]["status"] == "down"
    assert CREDENTIALS["secret_key"] not in after.content.decode()


def _default_storage_in_settings(**env):
    dropped = {"DEBUG", "DJANGO_SETTINGS_MODULE"} | {key for key in os.environ if key.startswith("S3_")}
    clean = {key: value for key, value in os.environ.items() if key not in dropped}
    script = textwrap.dedent(
        """
        import json
        from django.conf import settings
        from django.core.files.storage import storages
        storage = storages["default"]
        print(json.dumps({
            "class": type(storage).__name__,
            "bucket": getattr(storage, "bucket_name", None),
            "endpoint": getattr(storage, "endpoint_url", None),
            "acl": getattr(storage, "default_acl", None),
            "region": getattr(storage, "region_name", None),
            "secret_in_settings": settings.STORAGES["default"].get("OPTIONS", {}).get("secret_key"),
        }))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_choose_the_bucket_when_s3_bucket_is_set():
    storage = _default_storage_in_settings(
        S3_BUCKET="portail-pieces",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_ACCESS_KEY_ID="portail",
        S3_SECRET_ACCESS_KEY="secret-of-the-bucket",
        S3_REGION="eu-west-3",
    )

    assert storage == {
        "class": "S3Storage",
        "bucket": "portail-pieces",
        "endpoint": "http://127.0.0.1:9000",
        "acl": "private",
        "region": "eu-west-3",
        "secret_in_settings": "secret-of-the-bucket",
    }


def test_settings_keep_the_local_private_folder_without_s3_bucket():
    assert _default_storage_in_settings()["class"] == "FileSystemStorage"
