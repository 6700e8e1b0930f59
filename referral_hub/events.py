"""Domain events: a package announces what happened, and the packages above it react in the same
transaction, so no package calls up the domain order (README: Layout). create_app connects them."""

from blinker import Namespace

_events = Namespace()

# Sender: the new Membership. The ledger gives the chapter's welcome credits.
member_joined = _events.signal("member-joined")
# Sender: a new Introduction. A connector's open request for exactly it is fulfilled.
introduction_made = _events.signal("introduction-made")
# Sender: the Introduction both parties accepted. Relationships grow stronger.
introduction_completed = _events.signal("introduction-completed")
# Sender: the Outcome a party reported. Business closed strengthens the relationship.
outcome_reported = _events.signal("outcome-reported")
