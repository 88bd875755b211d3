"""Nothing in the gateway may hang a page or a worker for minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from contoso_images.azure import clear_client_cache, compute_client
from contoso_images.azure.errors import parse_retry_after_seconds
from contoso_images.azure.retry import REQUEST_TIMEOUT


@pytest.mark.parametrize(("value", "seconds"), [("30", 30), (" 30 ", 30), ("1.5", 2), ("0", 0)])
def test_retry_after_in_seconds(value, seconds):
    assert parse_retry_after_seconds(value) == seconds


def test_retry_after_as_an_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 115 <= parse_retry_after_seconds(when) <= 121


def test_retry_after_garbage_is_none():
    assert parse_retry_after_seconds("soon") is None


def test_azure_mode_clients_time_out_quickly(settings):
    settings.AZURE_MODE = "azure"
    settings.AZURE_CLOUD = "public"
    clear_client_cache()
    try:
        client = compute_client("00000000-0000-0000-0000-000000000000")
        pipeline = client._client._pipeline
        transport = pipeline._transport
        assert transport.connection_config.timeout == 10
        assert transport.connection_config.read_timeout == 60
        retry = next(p for p in pipeline._impl_policies if hasattr(p, "max_wait"))
        assert retry.timeout == REQUEST_TIMEOUT
    finally:
        clear_client_cache()
