"""Domain events: a package announces what happened, and the packages above it react in the same
transaction, so no package calls up the domain order (README: Layout). create_app connects them."""

from blinker import Namespace

_events = Namespace()

# Sender: the Member whose display name just changed (a profile edit, an erasure). Memberships keep it.
member_renamed = _events.signal("member-renamed")
# Sender: the new Membership. The ledger gives the chapter's welcome credits.
member_joined = _events.signal("member-joined")
# Sender: a new Introduction. A connector's open request for exactly it is fulfilled.
introduction_made = _events.signal("introduction-made")
# Sender: the Introduction both parties accepted. Relationships grow stronger.
introduction_completed = _events.signal("introduction-completed")
# Sender: the Outcome a party reported. Business closed strengthens the relationship.
outcome_reported = _events.signal("outcome-reported")
# Sender: the Consent a party just answered (accept or decline). The reports count the activity.
introduction_answered = _events.signal("introduction-answered")
# Sender: the Introduction just declined or cancelled (closed_at set). The reports count it.
introduction_closed = _events.signal("introduction-closed")
# Sender: the moment of expiry; `chapters`: {chapter id: introductions expired}. The reports count them.
introductions_expired = _events.signal("introductions-expired")
# Sender: the new Need. The reports count it.
need_posted = _events.signal("need-posted")
# Sender: the Need its asker just marked fulfilled or closed. The reports count it.
need_finished = _events.signal("need-finished")
# Sender: the moment of expiry; `chapters`: {chapter id: needs expired}. The reports count them.
needs_expired = _events.signal("needs-expired")
# Sender: a new LedgerTransaction; `legs`: [(member id or None for the pool, amount)]. Sent in the
# posting's savepoint before its accounts move (a refusal undoes both). The reports count the credits
# into and out of member accounts.
transaction_posted = _events.signal("transaction-posted")
# Sender: the Chapter whose time zone just changed (flushed). The reports refile its days by the new zone.
chapter_zone_changed = _events.signal("chapter-zone-changed")
