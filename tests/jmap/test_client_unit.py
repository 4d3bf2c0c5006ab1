"""Client construction and URL handling (no network)."""

from __future__ import annotations

import pytest

from go_support.jmap import GroupOfficeClient

KEY = "5b7576e5c50ac30f0e53373f0fa614cedbdbe49df7637"


@pytest.mark.parametrize(("given", "base"), [
    ("https://go.example.com", "https://go.example.com"),
    ("https://go.example.com/", "https://go.example.com"),
    ("https://host/groupoffice/", "https://host/groupoffice"),
    ("https://host/groupoffice/api/jmap.php", "https://host/groupoffice"),
    (" http://127.0.0.1:8080/api ", "http://127.0.0.1:8080"),
])
def test_base_url_normalisation(given: str, base: str) -> None:
    assert GroupOfficeClient(given, api_key=KEY).base_url == base


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="either api_key"):
        GroupOfficeClient("https://h", api_key=KEY, username="u", password="p")
    with pytest.raises(ValueError, match="pass api_key"):
        GroupOfficeClient("https://h")
    with pytest.raises(ValueError, match="pass api_key"):
        GroupOfficeClient("https://h", username="u")
    with pytest.raises(ValueError, match="http"):
        GroupOfficeClient("go.example.com", api_key=KEY)
    with pytest.raises(ValueError, match="credentials") as info:
        GroupOfficeClient("https://admin:hunter2@h", api_key=KEY)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ValueError, match="timeout"):
        GroupOfficeClient("https://h", api_key=KEY, timeout=0)


def test_repr_hides_credentials() -> None:
    assert KEY not in repr(GroupOfficeClient("https://h", api_key=KEY))
    assert "hunter2" not in repr(GroupOfficeClient("https://h", username="u", password="hunter2"))


def test_session_urls_must_stay_on_our_origin() -> None:
    client = GroupOfficeClient("https://go.example.com/groupoffice", api_key=KEY)
    same = "https://go.example.com/groupoffice/api/jmap.php"
    assert client._trusted_endpoint(same, "/api/jmap.php") == same
    # a proxy without X-Forwarded-Host makes GO advertise its internal address
    internal = "http://10.0.0.5:8080/api/jmap.php"
    assert client._trusted_endpoint(internal, "/api/jmap.php") == same
    downgrade = "http://go.example.com/groupoffice/api/jmap.php"
    assert client._trusted_endpoint(downgrade, "/api/jmap.php") == same
    plain = GroupOfficeClient("http://go.example.com", api_key=KEY)
    upgrade = "https://go.example.com/api/jmap.php"
    assert plain._trusted_endpoint(upgrade, "/api/jmap.php") == upgrade


def test_managers_exist() -> None:
    client = GroupOfficeClient("https://h", api_key=KEY)
    names = {m.name for m in (client.tasks, client.task_lists, client.task_list_groupings,
                              client.task_categories, client.comments, client.comment_labels,
                              client.fields, client.field_sets, client.users, client.groups,
                              client.principals, client.modules, client.keys)}
    assert names == {"Task", "TaskList", "TaskListGrouping", "TaskCategory", "Comment",
                     "CommentLabel", "Field", "FieldSet", "User", "Group", "Principal",
                     "Module", "Key"}
    assert client.entity("Note").name == "Note"
    assert client.entity("Module") is client.modules
    with pytest.raises(ValueError):
        client.entity("Note/get")


@pytest.mark.parametrize(("header", "name"), [
    ('attachment;filename="notes 1125235104.txt"', "notes 1125235104.txt"),
    ("inline;filename=\"pixel.png\"", "pixel.png"),
    ('attachment;filename="notes Ã©tÃ©.txt"', "notes été.txt"),  # raw UTF-8 read as Latin-1
    ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf"),
    ("attachment", None),
])
def test_download_file_name(header: str, name: str | None) -> None:
    from go_support.jmap import BlobStream, HttpResponse
    from go_support.jmap.blobs import _BytesStream

    stream = BlobStream("id", _BytesStream(HttpResponse(
        200, "OK", {"Content-Disposition": header, "Content-Length": "3"}, b"abc")))
    assert stream.filename == name
    assert stream.size == 3 and stream.read() == b"abc"
