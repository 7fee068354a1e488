"""The benefits-administration system (BenefitPoint's BrokerConnect v4 subset): SOAP under
``/benefitpoint/services/``, its control page at ``/benefitpoint/``, its own SQLite file."""

from .control import Control
from .service import SCHEMA_SQL, BenefitPoint

__all__ = ["SCHEMA_SQL", "BenefitPoint", "Control"]
