"""Domain types and validators: the foundation every other package builds on.

Identifiers (USCC, resident ID, phone) are normalised and checked with python-stdnum and
phonenumbers; classification codes (GB/T 2260 divisions, GB/T 4754 industries, SME size
classes) come from shipped data; money is Decimal; every rejection names its field and masks
personal data.
"""

from xiaowei.entities.check_digits import (
    ric_check_char,
    ric_check_chars,
    uscc_check_char,
    uscc_check_chars,
)
from xiaowei.entities.datafiles import DataFileError
from xiaowei.entities.divisions import (
    Division,
    city_of,
    counties_in,
    division,
    division_name,
    province_of,
    provinces,
    validate_division_code,
)
from xiaowei.entities.errors import InvalidIdentifier
from xiaowei.entities.fields import DomainModel
from xiaowei.entities.identifiers import (
    is_valid_phone,
    is_valid_resident_id,
    is_valid_uscc,
    normalise_text,
    validate_phone,
    validate_resident_id,
    validate_uscc,
)
from xiaowei.entities.industry import (
    Industry,
    all_divisions,
    all_sections,
    division_of,
    divisions_in,
    industry_name,
    lookup_industry,
    section_of,
    validate_industry,
)
from xiaowei.entities.labels import LabelledStrEnum
from xiaowei.entities.lending import (
    INCLUSIVE_SME_CREDIT_CAP,
    MAX_ANNUAL_RATE,
    Application,
    ApplicationStatus,
    Channel,
    Decision,
    DecisionOutcome,
    Loan,
    LoanStatus,
    ProductIntent,
    Repayment,
    RepaymentMethod,
)
from xiaowei.entities.masking import mask_id_number, mask_name, mask_phone, mask_uscc, mask_value
from xiaowei.entities.money import from_fen, to_decimal, to_fen, to_yuan, wan_to_yuan, yuan_to_wan
from xiaowei.entities.organisation import Branch, CustomerManager
from xiaowei.entities.party import (
    BusinessOwner,
    Enterprise,
    IndividualBusiness,
    Party,
    PartyType,
    TaxCreditGrade,
)
from xiaowei.entities.size_class import SizeClass, SizeGroup, classify_size, size_group_of
from xiaowei.entities.task import TRANSITIONS, Task, TaskKind, TaskStatus, can_transition

__all__ = [
    "INCLUSIVE_SME_CREDIT_CAP",
    "MAX_ANNUAL_RATE",
    "TRANSITIONS",
    "Application",
    "ApplicationStatus",
    "Branch",
    "BusinessOwner",
    "Channel",
    "CustomerManager",
    "DataFileError",
    "Decision",
    "DecisionOutcome",
    "Division",
    "DomainModel",
    "Enterprise",
    "IndividualBusiness",
    "Industry",
    "InvalidIdentifier",
    "LabelledStrEnum",
    "Loan",
    "LoanStatus",
    "Party",
    "PartyType",
    "ProductIntent",
    "Repayment",
    "RepaymentMethod",
    "SizeClass",
    "SizeGroup",
    "Task",
    "TaskKind",
    "TaskStatus",
    "TaxCreditGrade",
    "all_divisions",
    "all_sections",
    "can_transition",
    "city_of",
    "classify_size",
    "counties_in",
    "division",
    "division_name",
    "division_of",
    "divisions_in",
    "from_fen",
    "industry_name",
    "is_valid_phone",
    "is_valid_resident_id",
    "is_valid_uscc",
    "lookup_industry",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_uscc",
    "mask_value",
    "normalise_text",
    "province_of",
    "provinces",
    "ric_check_char",
    "ric_check_chars",
    "section_of",
    "size_group_of",
    "to_decimal",
    "to_fen",
    "to_yuan",
    "uscc_check_char",
    "uscc_check_chars",
    "validate_division_code",
    "validate_industry",
    "validate_phone",
    "validate_resident_id",
    "validate_uscc",
    "wan_to_yuan",
    "yuan_to_wan",
]
