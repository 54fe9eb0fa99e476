"""Every area's tables. Importing this module registers each of them on the one metadata (Alembic, tests)."""

from sqlmodel import SQLModel

from cellchain.audit import models as audit  # noqa: F401
from cellchain.banking import models as banking  # noqa: F401
from cellchain.core.submissions import models as submissions  # noqa: F401
from cellchain.equipment import models as equipment  # noqa: F401
from cellchain.labelling.printing import models as printing  # noqa: F401
from cellchain.manufacturing import models as manufacturing  # noqa: F401
from cellchain.materials import models as materials  # noqa: F401
from cellchain.notices import models as notices  # noqa: F401
from cellchain.people import models as people  # noqa: F401
from cellchain.quality import models as quality  # noqa: F401
from cellchain.safety import models as safety  # noqa: F401
from cellchain.storage import models as storage  # noqa: F401
from cellchain.trial import models as trial  # noqa: F401
from cellchain.ward import models as ward  # noqa: F401

metadata = SQLModel.metadata
