"""Organizer reports: the figures behind the JSON API and the chapter dashboard, and the API's tokens.

Definitions (the OpenAPI descriptions repeat them for the API's users):

- An *activity* of a member in a chapter: posting a need, making an introduction, answering an
  introduction (accept or decline), reporting an outcome. Joining is not an activity.
- *active* in a period: at least one activity in it. *dormant*: a current member with no activity
  in the 90 days up to the end of the period (status red).
- Status, as of now: *green* made an introduction that completed in the last 90 days; *amber* not
  green but active in the last 90 days; *red* no activity in the last 90 days.
- *give_ratio*: giving / (giving + asking), giving = introductions the member made that completed,
  asking = needs posted; null when both are zero. 1 only gives, 0 only asks.
- *acceptance_rate*: of the introductions resolved in the period (completed, declined or expired),
  the share that completed; null when none resolved.

Every figure is a fixed number of SQL aggregates whatever the chapter's size.
"""
