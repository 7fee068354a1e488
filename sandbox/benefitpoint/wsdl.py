"""The BrokerConnect v4 subset as a type table: what the served WSDL declares and what requests and
responses may hold. Operation and field names are the real service's (see the spec)."""
from ..soap import F, Schema, Service

NS = "http://ws.benefitpoint.com/common/v3"

TYPES = {
    "Error": [F("errorCode"), F("message")],
    "Result": [F("success", "boolean", 1), F("ID", "int"), F("errors", "Error", many=True)],
    "Address": [F("street1"), F("street2"), F("city"), F("state"), F("zip"), F("country")],
    "Phone": [F("type"), F("number")],
    "AccountSearchCriteria": [F("accountNameMatch"), F("accountClassifications", many=True), F("accountTypes", many=True),
                              F("active", "boolean"), F("teamMemberID", "int")],
    "AccountSummary": [F("accountID", "int", 1), F("accountName"), F("accountClassification"), F("accountType"),
                       F("active", "boolean"), F("lastModifiedOn", "dateTime"), F("officeName")],
    "CommonGroupAccountInfo": [F("taxpayerID"), F("website"), F("yearEstablished", "int")],
    "AccountIntegrationInfo": [F("amsCustomerId"), F("amsCustomerNumber")],
    "GroupAccountInfo": [F("accountName", min=1), F("DBA"), F("numberOfFTEs", "int"), F("businessType"), F("SICCode"),
                         F("NAICSCode"), F("commonGroupAccountInfo", "CommonGroupAccountInfo"),
                         F("accountIntegrationInfo", "AccountIntegrationInfo")],
    "Account": [F("accountID", "int"), F("active", "boolean"), F("inactiveAsOf", "date"), F("inactiveReason"),
                F("accountClassification"), F("accountType"), F("officeID", "int"), F("departmentID", "int"),
                F("mainAddress", "Address"), F("billingAddress", "Address"), F("mailingAddress", "Address"),
                F("lastModifiedOn", "dateTime"), F("groupAccountInfo", "GroupAccountInfo")],
    "Contact": [F("contactID", "int"), F("firstName"), F("lastName"), F("email"), F("address", "Address"),
                F("phones", "Phone", many=True)],
    "AccountContact": [F("contact", "Contact"), F("accountID", "int"), F("title"), F("primary", "boolean"),
                       F("responsibilities", many=True), F("lastModifiedOn", "dateTime")],
    "ProductSearchCriteria": [F("accountID", "int", 1), F("sinceLastModifiedOn", "dateTime"), F("effectiveOn", "date")],
    "ProductSummary": [F("productID", "int", 1), F("accountID", "int"), F("productTypeID", "int"), F("productStatus"),
                       F("name"), F("carrierID", "int"), F("effectiveAsOf", "date"), F("renewalOn", "date"),
                       F("parentProductID", "int"), F("lastModifiedOn", "dateTime")],
    "PlanInfo": [F("alternativePlanID"), F("erisaPlan", "boolean"), F("notes")],
    "PolicyIntegrationInfo": [F("amsPolicyID")],
    "BenefitSummaryItem": [F("attribute"), F("value")],
    "Product": [F("productID", "int"), F("accountID", "int"), F("productTypeID", "int"), F("productStatus"), F("name"),
                F("carrierID", "int"), F("policyNumber"), F("policyOriginationReason"), F("parentProductID", "int"),
                F("effectiveAsOf", "date"), F("renewalOn", "date"), F("cancellationOn", "date"), F("cancellationReason"),
                F("billingType"), F("premiumPaymentFrequency"), F("numberOfEligibleEmployees", "int"),
                F("planInfo", "PlanInfo"), F("policyIntegrationInfo", "PolicyIntegrationInfo"),
                F("benefitSummary", "BenefitSummaryItem", many=True), F("lastModifiedOn", "dateTime"),
                F("createdOn", "dateTime")],
    "RateType": [F("rateTypeID", "int"), F("description"), F("fundingType")],
    "ProductType": [F("productTypeID", "int"), F("shortDescription"), F("longDescription"), F("lineOfCoverage"),
                    F("rateTypes", "RateType", many=True)],
    "CarrierSummary": [F("carrierID", "int"), F("carrierName"), F("carrierAlias")],
    "RateSummary": [F("rateID", "int"), F("description"), F("effectiveAsOf", "date"), F("expirationOn", "date"),
                    F("annualizedPremium", "decimal")],
    "RateTier": [F("description"), F("monthlyPremium", "decimal")],
    "Rate": [F("rateID", "int"), F("productID", "int"), F("rateTypeID", "int"), F("description"),
             F("effectiveAsOf", "date"), F("expirationOn", "date"), F("annualizedPremium", "decimal"),
             F("rateTiers", "RateTier", many=True), F("lastModifiedOn", "dateTime")],
    "ChangeSearchCriteria": [F("sinceLastModifiedOn", "dateTime", 1), F("typesToInclude", many=True)],
    "Modification": [F("entityID", "int"), F("entityType"), F("lastModifiedOn", "dateTime")],
    "Deletion": [F("entityID", "int"), F("entityType"), F("deletedOn", "dateTime")],
    "ChangeSummary": [F("processStartedOn", "dateTime"), F("modifications", "Modification", many=True),
                      F("deletions", "Deletion", many=True)],
}

_RESULT = [F("result", "Result")]
OPERATIONS = {
    "login": ([F("username", min=1), F("password", min=1)], [F("sessionID")]),
    "echo": ([F("sessionID", min=1)], [F("sessionID")]),
    "logout": ([F("sessionID", min=1)], []),
    "findAccounts": ([F("criteria", "AccountSearchCriteria")], [F("accountSummaries", "AccountSummary", many=True)]),
    "getAccount": ([F("accountID", "int", 1)], [F("account", "Account")]),
    "updateAccount": ([F("account", "Account", 1)], _RESULT),
    "findAccountContacts": ([F("accountID", "int", 1)], [F("accountContacts", "AccountContact", many=True)]),
    "getAccountContact": ([F("contactID", "int", 1)], [F("accountContact", "AccountContact")]),
    "createAccountContact": ([F("accountContact", "AccountContact", 1)], _RESULT),
    "updateAccountContact": ([F("accountContact", "AccountContact", 1)], _RESULT),
    "deleteAccountContacts": ([F("contactIDs", "int", many=True)], _RESULT),
    "findProducts": ([F("criteria", "ProductSearchCriteria", 1)], [F("productSummaries", "ProductSummary", many=True)]),
    "getProduct": ([F("productID", "int", 1)], [F("product", "Product")]),
    "createProduct": ([F("product", "Product", 1)], _RESULT),
    "updateProduct": ([F("product", "Product", 1)], _RESULT),
    "getProductTypes": ([], [F("productTypes", "ProductType", many=True)]),
    "getAvailableCarriers": ([], [F("carriers", "CarrierSummary", many=True)]),
    "findRates": ([F("productID", "int", 1)], [F("rateSummaries", "RateSummary", many=True)]),
    "getRate": ([F("rateID", "int", 1)], [F("rate", "Rate")]),
    "createRate": ([F("rate", "Rate", 1)], _RESULT),
    "updateRate": ([F("rate", "Rate", 1)], _RESULT),
    "findChanges": ([F("criteria", "ChangeSearchCriteria", 1)], [F("changeSummary", "ChangeSummary")]),
}
LOGIN_OPERATIONS = ["login", "echo", "logout"]
BROKER_OPERATIONS = [op for op in OPERATIONS if op not in LOGIN_OPERATIONS]
DOCS = {
    "createRate": "Beyond v4: integrators push rates through a newer surface; offered here for the rate sync.",
    "updateRate": "Beyond v4: integrators push rates through a newer surface; offered here for the rate sync.",
}

SCHEMA = Schema(
    ns=NS, types=TYPES, operations=OPERATIONS, docs=DOCS,
    header=("SessionIdHeader", [F("sessionId", min=1)]),
    services=[Service("LoginService", "/benefitpoint/services/LoginService", LOGIN_OPERATIONS, header=False),
              Service("BrokerConnectV4", "/benefitpoint/services/BrokerConnectV4", BROKER_OPERATIONS)],
)
