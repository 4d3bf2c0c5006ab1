"""Emulator: session, auth.php, users/groups/principals, modules and rights, API keys (01, 02,
11, 12, 13), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._http import ADMIN_PASSWORD, DB_ERROR, Go, running


@pytest.fixture
def go() -> Iterator[Go]:
    with running() as server:
        yield server


# -- session and auth.php ----------------------------------------------------------------------


def test_session_admin_and_unauthenticated(go: Go) -> None:
    r = go.session(go.admin_key)
    assert r.status_code == 200
    session = r.json()
    assert session["userId"] == "1"
    assert session["state"] == []
    caps = session["capabilities"]
    assert caps["go:core:core"] == {
        "mayRead": True, "mayChangeUsers": True, "mayChangeGroups": True,
        "mayChangeCustomFields": True,
    }
    assert caps["go:legacy:files"]["mayAccessMainPanel"] is True
    assert "go:community:apikeys" in caps
    for token in (None, "0" * 45):
        r = go.session(token)
        assert r.status_code == 401
        assert r.json() == {"auth": {"domains": []}}


def test_admin_password_login_and_auth_errors(go: Go) -> None:
    r = go.auth({"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 201
    assert r.reason == "Authentication is complete, access token created."
    body = r.json()
    assert body["userId"] == "1" and body["debug"] == [] and body["accessToken"]
    token = body["accessToken"]
    assert go.session(token).status_code == 200

    wrong = go.auth({"username": "admin", "password": "nope-nope"})
    unknown = go.auth({"username": "nobody", "password": "nope-nope"})
    for resp in (wrong, unknown):  # identical answers (02 #1, #2)
        assert resp.status_code == 401 and resp.reason == "Bad username or password"
        assert resp.json() == {
            "errors": {"username": {"description": "Bad username or password", "code": 10}},
            "debug": [],
        }
    missing = go.auth({"username": "admin"})
    assert missing.status_code == 400
    message = "Missing arguments 'username' and 'password' for authentication."
    assert missing.json()["error"] == message
    form = go.auth("username=admin&password=x", "application/x-www-form-urlencoded")
    assert (form.status_code, form.reason, form.json()) == (
        400, "Only Content-Type: application/json", {"debug": []}
    )
    broken = go.auth("{not json", "application/json")
    assert (broken.status_code, broken.reason) == (500, "JsonException")

    out = go.auth({"action": "logout"}, token=token)
    assert out.status_code == 200 and out.json() == {"debug": []}
    assert go.session(token).status_code == 401


def test_non_admin_session_has_fewer_capabilities(go: Go) -> None:
    go.create_user("plain1")
    token = go.login("plain1", "s3cret-pw")
    caps = go.session(token).json()["capabilities"]
    assert caps["go:core:core"]["mayChangeUsers"] is False
    assert caps["go:community:tasks"] == {
        "mayRead": True, "mayChangeTasklists": True, "mayChangeCategories": False,
    }
    assert "go:community:apikeys" not in caps and "go:legacy:zpushadmin" not in caps
    error = go.call("Key/get", {}, token)
    assert error == {
        "message": "Forbidden, you don't have access to module 'community/apikeys'.",
        "type": "forbidden",
    }


# -- users -------------------------------------------------------------------------------------


def test_user_create_answers_the_full_object(go: Go) -> None:
    created = go.ok("User/set", {"create": {"u": {
        "username": "jane", "displayName": "Jane Roe", "email": "jane@example.com",
    }}})["created"]["u"]
    uid = created["id"]
    gid = created["personalGroup"]["id"]
    assert "username" not in created  # what the client sent is not echoed
    assert created["groups"] == ["3", 2, gid]  # default groups, Everyone as int, personal
    assert created["personalGroup"]["acl"] == {"2": 10, gid: 50}
    assert created["personalGroup"]["isUserGroupFor"] == uid
    assert created["authenticators"] == [] and created["password"] is None
    assert created["customFields"] == []
    profile = created["profile"]
    assert profile["emailAddresses"] == [
        {"type": "work", "email": "jane@example.com"},
        {"type": "work", "email": "jane@example.com"},
    ]
    assert (profile["firstName"], profile["lastName"], profile["goUserId"]) == ("Jane", "Roe", uid)
    assert created["tasksSettings"]["userId"] == uid  # a string in created ...

    got = go.ok("User/get", {"ids": [uid]})["list"][0]
    assert got["groups"] == sorted(["2", "3", gid], key=int)
    assert got["tasksSettings"]["userId"] == int(uid)  # ... an integer in get
    assert got["emailSettings"]["email_show_linked_tasks"] == "0"
    tasklist = got["tasksSettings"]["defaultTasklistId"]
    listed = go.ok("TaskList/get", {"ids": [str(tasklist)]})
    assert listed["notFound"] == []


def test_user_validation_and_missing_email(go: Go) -> None:
    go.create_user("dupe")
    calls = [
        ["User/set", {"create": {"a": {"username": "x1", "displayName": "x",
                                        "email": "dupe@example.com"}}}, "c1"],
        ["User/set", {"create": {"b": {"username": "dupe", "displayName": "x",
                                        "email": "x2@example.com"}}}, "c2"],
        ["User/set", {"create": {"c": {"username": "x3", "displayName": "x",
                                        "email": "x3@example.com", "password": "abc"}}}, "c3"],
        ["User/set", {"create": {"d": {"username": "x4", "displayName": "x"}}}, "c4"],
    ]
    r1, r2, r3, r4 = go.post(*calls)
    assert r1[1]["notCreated"]["a"]["validationErrors"] == {
        "email": {"code": 11, "description": "The e-mail address must be unique in the system"}
    }
    assert r2[1]["notCreated"]["b"]["validationErrors"] == {
        "username": {"code": 11, "description": "The property must be unique"}
    }
    assert r3[1]["notCreated"]["c"]["validationErrors"] == {
        "password": {"code": 10, "description": "Minimum password length is 6 chars"}
    }
    assert r4[0] == "error" and r4[1]["type"] == "error"
    assert "$email must not be accessed before initialization" in r4[1]["message"]
    # the failed insert used up an id (11: user 38 is skipped)
    first = int(go.ok("User/query", {"filter": {"username": "dupe"}})["ids"][0])
    assert int(go.create_user("after")) == first + 2


def test_non_admin_view_of_users(go: Go) -> None:
    uid = go.create_user("viewer")
    token = go.login("viewer", "s3cret-pw")
    ids = go.ok("User/query", {}, token)["ids"]
    assert "1" not in ids and uid in ids  # the admin's personal group hides the admin
    got = go.ok("User/get", {"ids": ["1", uid], "properties": ["id", "username"]}, token)
    assert got["notFound"] == ["1"]
    denied = go.ok("User/set", {"create": {"x": {
        "username": "sneaky", "displayName": "x", "email": "sneaky@example.com"}}}, token)
    assert denied["notCreated"]["x"]["type"] == "forbidden"


def test_user_with_api_key_cannot_be_destroyed(go: Go) -> None:
    uid = go.create_user("keyed")
    key = go.ok("Key/set", {"create": {"k": {"name": "for keyed", "userId": int(uid)}}})
    key_id = key["created"]["k"]["id"]
    assert go.call("User/set", {"destroy": [uid]}) == DB_ERROR
    go.ok("Key/set", {"destroy": [key_id]})
    assert go.ok("User/set", {"destroy": [uid]})["destroyed"] == [uid]


def test_groups_and_principals(go: Go) -> None:
    uid = go.create_user("pat")
    assert go.ok("Group/query", {"filter": {"hideUsers": True}})["ids"] == ["1", "2", "3"]
    groups = go.ok("Group/get", {"ids": ["1", "2", "4"]})["list"]
    assert groups[0]["users"] == ["1"] and groups[0]["acl"] == {"1": 10}
    assert uid in groups[1]["users"]
    assert groups[2]["isUserGroupFor"] == "1" and groups[2]["createdBy"] == "1"
    found = go.ok("Principal/query", {"filter": {"email": "pat@example.com"}})["ids"]
    assert found[0] == uid and found[1].startswith("Contact:")
    user_p, contact_p = go.ok("Principal/get", {"ids": found})["list"]
    assert user_p["description"] == "pat" and user_p["timeZone"] == "Europe/Amsterdam"
    assert contact_p["description"] == "Contact " and contact_p["acl"] == {"3": 10}


# -- modules, settings and registration ----------------------------------------------------------


def _core_id(go: Go) -> str:
    ids = go.ok("Module/query", {"filter": {"package": "core", "name": "core"}})["ids"]
    return str(ids[0])


def test_module_get_property_quirks(go: Go) -> None:
    core = _core_id(go)
    full = go.ok("Module/get", {"ids": [core]})["list"][0]
    assert full["settings"]["allowRegistration"] == ""
    assert full["permissionLevel"] == 10  # core has no mayManage right
    assert full["permissions"] == {"2": {"rights": {"mayRead": True}, "moduleId": 1, "groupId": 2}}
    assert go.ok("Module/get", {"ids": [core], "properties": ["id", "settings"]})["list"] == [
        {"id": core, "settings": None}
    ]
    assert go.ok("Module/get", {"ids": [core], "properties": ["id", "rights"]})["list"] == [
        {"id": core, "rights": []}
    ]
    nf = go.ok("Module/get", {"ids": [core], "properties": ["id", "name", "permissions"]})
    assert nf["list"] == [] and nf["notFound"] == [core]
    ok = go.ok("Module/get", {"ids": [core], "properties": ["id", "package", "name", "rights"]})
    assert ok["list"][0]["rights"] == ["mayChangeUsers", "mayChangeGroups", "mayChangeCustomFields"]
    order = go.ok("Module/query", {})["ids"]
    assert order[:6] == ["1", "20", "18", "2", "4", "15"]


def test_settings_and_registration(go: Go) -> None:
    core = _core_id(go)
    new_user = {"username": "r1", "displayName": "R", "email": "r1@example.com",
                "password": "pw-123456"}
    off = go.auth({"action": "register", "user": new_user})
    assert (off.status_code, off.reason, off.json()) == (
        403, "Registration is not allowed", {"debug": []}
    )
    pointer = go.call("Module/set", {"update": {core: {"settings/allowRegistration": True}}})
    assert pointer["type"] == "typeError"
    updated = go.ok("Module/set", {"update": {core: {"settings": {"allowRegistration": True}}}})
    changed = updated["updated"][core]
    assert changed["settings"]["allowRegistration"] is True
    assert changed["settings"]["title"] == "GroupOffice"  # merged, not replaced
    assert "permissions" in changed
    on = go.auth({"action": "register", "user": new_user})
    assert on.status_code == 201
    token = on.json()["accessToken"]
    assert go.session(token).json()["userId"] == on.json()["userId"]
    # a non-admin reads the settings but cannot change them; the state still moves
    read = go.ok("Module/get", {"ids": [core]}, token)["list"][0]
    assert read["settings"]["allowRegistration"] is True
    denied = go.ok("Module/set", {"update": {core: {"settings": {"allowRegistration": False}}}},
                   token)
    assert denied["notUpdated"][core]["type"] == "forbidden"
    assert denied["oldState"] != denied["newState"]


def test_module_permissions_are_replaced(go: Go) -> None:
    uid = go.create_user("granted")
    gid = go.ok("User/get", {"ids": [uid], "properties": ["personalGroup"]})["list"][0][
        "personalGroup"]["id"]
    token = go.login("granted", "s3cret-pw")
    tasks = go.ok("Module/query", {"filter": {"package": "community", "name": "tasks"}})["ids"][0]
    current = go.ok("Module/get", {"ids": [tasks], "properties": ["id", "package", "name",
                                                                  "permissions"]})["list"][0]
    perms = {g: {"rights": e["rights"]} for g, e in current["permissions"].items()}
    perms[gid] = {"rights": {"mayChangeCategories": True, "noSuchRight": True}}
    done = go.ok("Module/set", {"update": {tasks: {"permissions": perms}}})["updated"][tasks]
    assert done["permissions"][gid]["rights"] == {"mayRead": True, "mayChangeCategories": True}
    assert [g["groupId"] for g in done["shadowAcl"]["groups"]] == [3, int(gid)]
    caps = go.session(token).json()["capabilities"]
    assert caps["go:community:tasks"]["mayChangeCategories"] is True
    # {gid: null} wipes the whole map: nobody but the admin may use tasks any more
    wiped = go.ok("Module/set", {"update": {tasks: {"permissions": {gid: None}}}})
    assert wiped["updated"][tasks]["permissions"] is None
    assert "go:community:tasks" not in go.session(token).json()["capabilities"]
    assert go.call("TaskList/query", {}, token)["type"] == "forbidden"


# -- API keys ----------------------------------------------------------------------------------


def test_api_key_lifecycle(go: Go) -> None:
    created = go.ok("Key/set", {"create": {"k": {"name": "desk"}}})["created"]["k"]
    assert created["userId"] == 1 and created["permissionLevel"] == 50
    token = created["accessToken"]
    assert len(token) == 45
    assert go.session(token).json()["userId"] == "1"
    got = go.ok("Key/get", {"ids": [created["id"]]})["list"][0]
    assert got["name"] == "desk" and got["accessToken"] == token
    all_ids = go.ok("Key/query", {})["ids"]
    assert go.ok("Key/query", {"filter": {"text": "no such key"}})["ids"] == all_ids
    missing = go.ok("Key/set", {"create": {"e": {}}})["notCreated"]["e"]
    required = {"code": 1, "description": "Property is required"}
    assert missing["validationErrors"] == {"name": required}
    renamed = go.ok("Key/set", {"update": {created["id"]: {"name": "renamed"}}})
    assert renamed["updated"] == {created["id"]: None}
    go.ok("Key/set", {"destroy": [created["id"]]})
    assert go.session(token).status_code == 401


def test_own_password_change_and_disabling(go: Go) -> None:
    uid = go.create_user("self1")
    token = go.login("self1", "s3cret-pw")
    no_current = go.ok("User/set", {"update": {uid: {"password": "new-pass-1"}}}, token)
    assert no_current["notUpdated"][uid]["validationErrors"]["currentPassword"]["code"] == 1
    wrong = go.ok("User/set", {"update": {uid: {"password": "new-pass-1",
                                                "currentPassword": "wrong-pw"}}}, token)
    assert wrong["notUpdated"][uid]["validationErrors"]["currentPassword"]["code"] == 10
    right = go.ok("User/set", {"update": {uid: {"password": "new-pass-1",
                                                "currentPassword": "s3cret-pw"}}}, token)
    assert right["notUpdated"] is None
    assert go.login("self1", "new-pass-1")
    go.ok("User/set", {"update": {uid: {"enabled": False}}})
    assert go.session(token).status_code == 401
    assert go.auth({"username": "self1", "password": "new-pass-1"}).status_code == 403
    assert uid not in go.ok("User/query", {})["ids"]  # showDisabled defaults to false
    assert uid in go.ok("User/query", {"filter": {"showDisabled": True}})["ids"]
