"""The admin password appears nowhere at rest: deployed through the form with a known
password, then the database file (its WAL too), the queue's tables, the captured logs and,
with REDIS_URL set, every key of the Redis database are searched for it."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from contoso_images.operations import engine
from contoso_images.operations.models import Operation
from tests.deploy.conftest import run_to_end, subnet_in
from vmops.deploy import secrets
from vmops.models import Deployment, DeploymentSecret, VirtualMachine

SECRET = "Zq8#Known-Pa55word!"


def _db_files() -> list[Path]:
    name = Path(connection.settings_dict["NAME"])
    return [p for p in (name, Path(f"{name}-wal"), Path(f"{name}-journal")) if p.exists()]


#: Run in a child process: prints the paths among argv whose bytes contain stdin's bytes.
_GREP = (
    "import sys; n = sys.stdin.buffer.read(); "
    "[print(p) for p in sys.argv[1:] if n in open(p, 'rb').read()]"
)
#: Another process's connection: writes a row, then closes (the file's last, once ours went).
_WRITE = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    "c.execute('INSERT INTO t VALUES (1)'); c.commit(); c.close()"
)


def _files_containing(needle: bytes, paths: list[Path]) -> list[str]:
    """The paths whose bytes contain ``needle``, read by another process.

    Not read here: closing a descriptor of the database file drops every POSIX lock this
    process holds on it, SQLite's included (those of its connections in other threads, and
    the shared lock that a connection in WAL mode keeps while it is open). SQLite still
    believes it holds them, so another process's last connection can then take the
    exclusive lock, checkpoint, and delete the -wal and -shm files that this process still
    has open and mapped; every later connection here shares that stale -shm (SQLite keys
    its state by the file's inode, per process) and fails with "disk I/O error" -- the
    real-cluster tests that ran after this one in a full run did.
    """
    result = subprocess.run(
        [sys.executable, "-c", _GREP, *map(str, paths)],
        input=needle,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().splitlines()


def _redis_values() -> list[bytes]:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    found = []
    for key in client.scan_iter(count=500):
        found.append(key)
        kind = client.type(key)
        if kind == b"string":
            found.append(client.get(key) or b"")
        elif kind == b"list":
            found.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            for k, v in client.hgetall(key).items():
                found += [k, v]
        elif kind in (b"set", b"zset"):
            found.extend(client.zrange(key, 0, -1) if kind == b"zset" else client.smembers(key))
        found.append(client.dump(key) or b"")
    return found


@pytest.mark.django_db(transaction=True)
def test_the_password_is_nowhere_once_azure_accepted_the_create(
    images, emulator, operator_client, operator_user, real_broker, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    queued: list[int] = []
    real_enqueue = engine.enqueue
    monkeypatch.setattr(engine, "enqueue", lambda pk: (queued.append(pk), real_enqueue(pk)))
    image = images["img-win2022-base-20241001"]
    sub = VirtualMachine.objects.first().subscription.subscription_id
    response = operator_client.post(
        reverse("vmops:vm_deploy") + f"?image={image.pk}",
        {
            "image": image.pk,
            "name": "secret-vm",
            "count": 1,
            "resource_group": "rg-web-prod",
            "location": "westeurope",
            "size": "Standard_D2s_v5",
            "subnet": subnet_in(sub),
            "admin_username": "azureuser",
            "admin_password": SECRET,
            "tags": "env=dev",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    deployment = Deployment.objects.get()
    operation = Operation.objects.get(pk=deployment.items[0]["operation"])
    # Before the worker ran: only ciphertext, and it decrypts to the password.
    assert DeploymentSecret.objects.filter(operation=operation).exists()
    assert secrets.read(operation) == SECRET
    assert queued == [operation.pk]
    assert SECRET not in str(operation.parameters)

    done = run_to_end(operation)
    assert done.status == "succeeded", done.error_summary
    assert not DeploymentSecret.objects.exists()

    needle = SECRET.encode()
    connection.close()  # every write checkpointed into the file as far as SQLite will
    assert _files_containing(needle, _db_files()) == []
    from django_q.models import OrmQ, Task

    for row in OrmQ.objects.all():
        assert SECRET not in row.payload
    for task in Task.objects.all():
        assert SECRET not in str(task.args) + str(task.kwargs) + str(task.result)
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in repr(record.args)
    if settings.Q_CLUSTER.get("redis") and os.environ.get("REDIS_URL"):
        values = _redis_values()
        assert values, "the queued task should be in Redis"
        for value in values:
            assert needle not in value
    # Nor is it in any page shown afterwards (the deployment, the VM).
    page = operator_client.get(reverse("vmops:deployment_detail", args=[deployment.pk]))
    assert SECRET not in page.content.decode()


@pytest.mark.django_db
def test_a_refused_form_never_shows_the_password_back(images, operator_client):
    image = images["img-win2022-base-20241001"]
    sub = VirtualMachine.objects.first().subscription.subscription_id
    response = operator_client.post(
        reverse("vmops:vm_deploy") + f"?image={image.pk}",
        {
            "image": image.pk,
            "name": "name-far-too-long-for-windows",
            "count": 1,
            "resource_group": "rg-web-prod",
            "location": "westeurope",
            "size": "Standard_D2s_v5",
            "subnet": subnet_in(sub),
            "admin_username": "azureuser",
            "admin_password": SECRET,
        },
    )
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert "cannot be more than 15 characters" in response.content.decode()
    assert not Operation.objects.exists()


def test_a_create_spec_with_a_password_cannot_reach_a_queue():
    import pickle

    from contoso_images import azure

    spec = azure.VmCreateSpec(
        location="westeurope",
        size="Standard_D2s_v5",
        image=azure.ImageReference(id="/x"),
        os_type="Windows",
        admin_username="azureuser",
        admin_password=SECRET,
        subnet_id="/s",
    )
    assert SECRET not in repr(spec)
    with pytest.raises(TypeError):
        pickle.dumps(spec)


def test_searching_the_database_files_leaves_this_process_s_sqlite_locks(tmp_path: Path) -> None:
    """Read here, the file's descriptor closing would drop the shared lock of the connection
    still open, and the other process's last connection would delete the -wal and -shm."""
    db = tmp_path / "db.sqlite3"
    mine = sqlite3.connect(db)
    try:
        mine.execute("PRAGMA journal_mode=WAL")
        mine.execute("CREATE TABLE t (x)")
        mine.commit()
        assert _files_containing(b"CREATE TABLE", [db, Path(f"{db}-wal")]) == [f"{db}-wal"]
        subprocess.run([sys.executable, "-c", _WRITE, str(db)], check=True)
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
        assert mine.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        mine.close()
