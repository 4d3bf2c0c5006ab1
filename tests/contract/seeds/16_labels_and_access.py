"""Seed for 16-labels-and-access.json: CommentLabel, CREATE level, no access, side effects.

Users (this file is from a later recording run, tag 1126000323):
- ``creator16`` is user 46 with personal group 45: #12 shows it (username
  wire-c16-1126000323, personalGroup 45); #3 gives group 45 level 20; #15 createdBy "46".
- ``agent16`` is user 47: #28 createdBy / responsibleUserId "47"; #3 gives its personal group
  46 level 30 (``{"45": 20, "46": 30}``). Its username is never shown.
- ``noaccess16`` ("the third user gets nothing", #3) never shows its id; user 48 with personal
  group 47 (the next ids) is a guess that nothing depends on.

Comment labels: #2 ``CommentLabel/query {}`` -> ["1", "5", "6", "7"], so label 1 existed; sorted
by name -> ["6", "1", "5", "7"], so its name sorts between "Escalated 1126000323" and
"Private 1126000323": "Private" (a label of an earlier run; 5 and 7 share a name and sort by id).

Comments: #23 ``Comment/query {entity: "Task"}, limit 3, calculateTotal`` as a user without
access -> ids ["3", "17", "25"], total 1199. At that point this file has created 4 comments
(1204, 1205 in #5, 1207 in #18, 1208 in #20; #9's failing create used up 1206), so 1195 comments
with section null existed. The first three in the default order (date, then id) are 3, 17 and
25: the "Customer wrote this by mail" comments of earlier 09 runs, dated 2024-01-02T03:04:05
(09 #1 shows that date). Comment 31 of the recorded 09 run has that date too. The other
comments (ids 1..1195 minus those) get a later date; their tasks are not needed because
Comment/query applies no ACL (README 32).

Derived counters: CommentLabel 5 (#0), TaskList 88 / acl 316 (#3), Task 1245 (#4),
Comment 1204 (#5).
"""

from ._common import comment, ticketref_records, user

MAIL_DATE = "2024-01-02T03:04:05+00:00"
LATER_DATE = "2026-11-25T23:45:00+00:00"
OLD_MAIL_COMMENTS = {3, 17, 25, 31}

SEED = {
    "users": [
        user(46, "wire-c16-1126000323", personal_group=45, as_name="creator16"),
        user(47, "wire-a16-1126000323", personal_group=46, as_name="agent16"),
        user(48, "wire-n16-1126000323", personal_group=47, as_name="noaccess16"),
    ],
    "records": {
        **ticketref_records(),
        "CommentLabel": [
            {"id": 1, "name": "Private", "color": "C62828", "createdBy": None},
        ],
        "Comment": [
            comment(
                cid,
                900 + cid % 300,
                date=MAIL_DATE if cid in OLD_MAIL_COMMENTS else LATER_DATE,
                text="<p>Customer wrote this by mail</p>"
                if cid in OLD_MAIL_COMMENTS
                else "<p>earlier comment</p>",
            )
            for cid in range(1, 1196)
        ],
    },
}
