"""Every domain's tables, imported in one place, so that the metadata (and Alembic) knows them all."""

from .accounts import models as accounts  # noqa: F401
from .chapters import models as chapters  # noqa: F401
from .introductions import models as introductions  # noqa: F401
from .jobs import models as jobs  # noqa: F401
from .ledger import models as ledger  # noqa: F401
from .mail import models as mail  # noqa: F401
from .needs import models as needs  # noqa: F401
from .relationships import models as relationships  # noqa: F401
from .reports import models as reports  # noqa: F401
