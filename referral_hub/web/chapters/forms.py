"""Forms for invitations and join requests."""

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length


class InviteForm(FlaskForm):
    email = EmailField(
        "Email address to invite",
        validators=[DataRequired(), Length(max=254), Email(message="Enter a valid email address.")],
    )


class JoinRequestForm(FlaskForm):
    slug = StringField(
        "Chapter code",
        validators=[DataRequired(), Length(max=60)],
        description="Your organizer can tell you the code, for example: downtown-professionals.",
    )
