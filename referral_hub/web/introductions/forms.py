"""Forms: make an introduction, answer one, report its outcome."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ...introductions import notes
from ...introductions.models import Decision, OutcomeKind


class IntroduceForm(FlaskForm):
    # The choices are the member's chapters' members; the service decides who may be introduced,
    # so a stale or forged choice gets the service's clear message, not "Not a valid choice".
    first_id = SelectField(
        "First person",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message="Choose the first person.")],
    )
    second_id = SelectField(
        "Second person",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired(message="Choose the second person.")],
    )
    note = TextAreaField(
        "Your note: why should these two meet?",
        validators=[DataRequired(message="Write a note."), Length(max=10_000)],
        description=f"At least {notes.MIN_LENGTH} characters, in your own words. Both people will read it.",
    )
    need_id = HiddenField()
    chapter = SelectField(
        "Chapter",
        validate_choice=False,
        validators=[Optional()],
        description="Needed only when you share more than one chapter with both.",
    )


class AnswerForm(FlaskForm):
    decision = RadioField(
        "Your answer",
        choices=[SelectChoice(d.value) for d in Decision],
        validators=[InputRequired(message="Choose accept or decline.")],
    )


class OutcomeForm(FlaskForm):
    kind = SelectField(
        "What came of it?",
        choices=[
            SelectChoice(OutcomeKind.MET.value, "We met"),
            SelectChoice(OutcomeKind.BUSINESS_CLOSED.value, "I received business from it"),
            SelectChoice(OutcomeKind.NOT_A_FIT.value, "Not a fit"),
        ],
    )
    amount = IntegerField(
        "Amount of business you received (whole units, only for business)",
        validators=[Optional(), NumberRange(min=1, max=1_000_000_000)],
    )
