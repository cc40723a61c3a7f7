"""Drives hvac (the Python Vault client) against a Strongroom server.

Run by the Rust suite (kv_clients.rs) with STRONGROOM_URL, STRONGROOM_TOKEN (a member's
session), CI_TOKEN (a CI token scoped to payments/api), AGENT_TOKEN, OWN_VAULT and
OTHER_VAULT (vault ids), and ROLE_ID and SECRET_ID (an AppRole of a machine attached to
payments/api with reveal). Each check
asserts; the last line printed is a JSON summary the suite checks as well.
"""

import json
import os

import hvac

URL = os.environ["STRONGROOM_URL"]
BASE = "payments/api/production"


def client(token, namespace=None):
    return hvac.Client(url=URL, token=token, namespace=namespace)


member = client(os.environ["STRONGROOM_TOKEN"])
kv = member.secrets.kv.v2
summary = {}

assert member.is_authenticated()
assert member.sys.is_initialized()
assert not member.sys.is_sealed()

# Write and read objects of any shape, and a plain value.
kv.create_or_update_secret(path=f"{BASE}/db", secret={"user": "app", "tls": {"mode": "full"}, "port": 5432})
read = kv.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)
assert read["data"]["data"] == {"user": "app", "tls": {"mode": "full"}, "port": 5432}, read
kv.create_or_update_secret(path=f"{BASE}/TOKEN", secret={"value": "t-1"})

# Versions and check-and-set.
kv.create_or_update_secret(path=f"{BASE}/db", secret={"user": "app2"}, cas=1)
try:
    kv.create_or_update_secret(path=f"{BASE}/db", secret={"user": "stale"}, cas=1)
    raise AssertionError("a stale check-and-set write landed")
except hvac.exceptions.InvalidRequest as e:
    assert "check-and-set" in str(e), e
old = kv.read_secret_version(path=f"{BASE}/db", version=1, raise_on_deleted_version=True)
assert old["data"]["data"]["user"] == "app"

# Listing: folders end in '/', an empty folder is InvalidPath with no errors.
assert kv.list_secrets(path="")["data"]["keys"] == ["payments/"]
assert kv.list_secrets(path=BASE)["data"]["keys"] == ["TOKEN", "db"]
try:
    kv.list_secrets(path="payments/api/staging")
    raise AssertionError("an empty folder listed")
except hvac.exceptions.InvalidPath as e:
    assert e.errors == [], e.errors

# Delete, undelete, destroy (hvac sends integers over POST).
kv.delete_secret_versions(path=f"{BASE}/db", versions=[2])
deleted = kv.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=False)
assert deleted["data"]["data"] is None and deleted["data"]["metadata"]["deletion_time"] != ""
kv.undelete_secret_versions(path=f"{BASE}/db", versions=[2])
assert kv.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)["data"]["data"] == {"user": "app2"}
kv.destroy_secret_versions(path=f"{BASE}/db", versions=[1])
meta = kv.read_secret_metadata(path=f"{BASE}/db")["data"]
assert meta["versions"]["1"]["destroyed"] is True and meta["current_version"] == 2, meta

# Metadata and patch.
kv.update_metadata(path=f"{BASE}/db", max_versions=5, custom_metadata={"owner": "payments"})
meta = kv.read_secret_metadata(path=f"{BASE}/db")["data"]
assert meta["max_versions"] == 5 and meta["custom_metadata"] == {"owner": "payments"}, meta
kv.patch(path=f"{BASE}/db", secret={"pass": "p"})
assert kv.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)["data"]["data"] == {"user": "app2", "pass": "p"}
kv.delete_metadata_and_all_versions(path=f"{BASE}/TOKEN")
try:
    kv.read_secret_version(path=f"{BASE}/TOKEN", raise_on_deleted_version=True)
    raise AssertionError("a purged secret was read")
except hvac.exceptions.InvalidPath:
    pass

# A CI token reads, cannot write; an agent token gets no value; a bad token is refused.
ci = client(os.environ["CI_TOKEN"])
assert ci.secrets.kv.v2.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)["data"]["data"]["pass"] == "p"
try:
    ci.secrets.kv.v2.create_or_update_secret(path=f"{BASE}/db", secret={"x": "y"})
    raise AssertionError("a CI token wrote")
except hvac.exceptions.Forbidden:
    pass
for token in (os.environ["AGENT_TOKEN"], "srs_bogus"):
    try:
        client(token).secrets.kv.v2.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)
        raise AssertionError("a value was given to " + token[:4])
    except hvac.exceptions.Forbidden:
        pass
assert not client("srs_bogus").is_authenticated()

# Namespaces: the vault's own id works, another vault's is Forbidden.
own = client(os.environ["STRONGROOM_TOKEN"], namespace=os.environ["OWN_VAULT"])
assert own.secrets.kv.v2.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)["data"]["data"]["user"] == "app2"
try:
    client(os.environ["STRONGROOM_TOKEN"], namespace=os.environ["OTHER_VAULT"]).secrets.kv.v2.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)
    raise AssertionError("another vault's namespace was served")
except hvac.exceptions.Forbidden:
    pass

# AppRole: a machine logs in and reads as itself.
machine = hvac.Client(url=URL)
login = machine.auth.approle.login(role_id=os.environ["ROLE_ID"], secret_id=os.environ["SECRET_ID"])
assert login["auth"]["client_token"].startswith("srm_"), login
assert machine.is_authenticated()
assert machine.secrets.kv.v2.read_secret_version(path=f"{BASE}/db", raise_on_deleted_version=True)["data"]["data"]["pass"] == "p"
try:
    hvac.Client(url=URL).auth.approle.login(role_id=os.environ["ROLE_ID"], secret_id="srr_wrong")
    raise AssertionError("a wrong secret id logged in")
except hvac.exceptions.InvalidRequest as e:
    assert "invalid role or secret ID" in str(e), e
summary["approle_role_name"] = login["auth"]["metadata"]["role_name"]

summary["lookup_display_name"] = ci.auth.token.lookup_self()["data"]["display_name"]
summary["final_version"] = kv.read_secret_metadata(path=f"{BASE}/db")["data"]["current_version"]
print(json.dumps(summary))
