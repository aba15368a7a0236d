"""Signed but odd requests: whatever Slack (or a bug between us) sends, no 500 and no write."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

KINDS = [
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
    "event_callback",
    "url_verification",
    "nonsense",
]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["id", "type", "action_id", "value", "user", "callback_id", "block_id", "state"]
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=8,
)
actions = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "action_id": st.one_of(st.sampled_from(["briefing_acknowledge", "other"]), scalars),
            "value": st.one_of(st.just("recruitment-funding@1"), scalars),
            "block_id": scalars,
            "type": st.one_of(st.just("button"), scalars),
        },
    ),
    max_size=2,
)
people = st.one_of(
    st.fixed_dictionaries({}, optional={"id": st.one_of(st.just("U0SW01"), scalars)}), values
)
payloads = st.fixed_dictionaries(
    {"type": st.sampled_from(KINDS)},
    optional={
        "actions": st.one_of(actions, values),
        "user": people,
        "view": values,
        "container": values,
        "event": st.one_of(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["app_home_opened", "x"])},
                optional={"user": people, "tab": scalars},
            ),
            values,
        ),
        "callback_id": values,
        "response_url": values,
    },
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(payload=payloads, as_event=st.booleans())
@example(payload={"type": "block_actions", "actions": []}, as_event=False)
@example(payload={"type": "block_actions", "actions": [{}]}, as_event=False)
async def test_odd_signed_payloads_never_fail_the_server_or_write(bot, driver, payload, as_event):
    if as_event:
        response = await driver.raw_post(json.dumps(payload), "application/json")
    else:
        response = await driver.raw_post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
    await bot.work.idle()
    assert response.status in (200, 400), (response.status, payload)
    assert await bot.storage.call(lambda db: db.table("acknowledgements").count) == 0
    assert await bot.storage.call(lambda db: db.table("publications").count) == 0
