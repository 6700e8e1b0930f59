"""The form for posting a need."""

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class NeedForm(FlaskForm):
    title = StringField(
        "What do you need?",
        validators=[DataRequired(message="Say in a line what you need."), Length(max=120)],
        description='One line, for example "An accountant who knows restaurants".',
    )
    details = TextAreaField(
        "Details",
        validators=[DataRequired(message="Add a few details."), Length(max=4000)],
        description="Who would be ideal, and what would you like them to do?",
    )
    category = StringField(
        "Category (optional)",
        validators=[Optional(), Length(max=60)],
        description="For example: legal, finance, marketing.",
    )
    expires_on = DateField(
        "Open until (optional)", validators=[Optional()], description="Defaults to 30 days from today."
    )
