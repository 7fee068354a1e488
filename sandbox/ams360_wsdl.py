"""The AMS360 WSAPI v3 subset the sandbox serves: object fields (in XSD sequence order) and the WSDL.

Names are the real ones (namespace ``http://www.WSAPI.AMS360.com/v3.0``); the WSDL is generated from
the tables below so the served contract and the sandbox's own serialization can't drift apart.
"""

from xml.sax.saxutils import escape

NS = "http://www.WSAPI.AMS360.com/v3.0"

# object -> [(field, xsd type)], in sequence order
CUSTOMER = [
    ("CustomerId", "string"),
    ("CustomerNumber", "int"),
    ("IsActive", "boolean"),
    ("CustomerType", "string"),
    ("FirmName", "string"),
    ("FirstName", "string"),
    ("MiddleName", "string"),
    ("LastName", "string"),
    ("DoingBusinessAs", "string"),
    ("FederalTaxIdNumber", "string"),
    ("Email", "string"),
    ("AddressLine1", "string"),
    ("AddressLine2", "string"),
    ("City", "string"),
    ("State", "string"),
    ("ZipCode", "string"),
    ("HomePhone", "string"),
    ("BusinessPhone", "string"),
    ("AccountExecCode", "string"),
    ("AccountRepCode", "string"),
    ("IsBenefits", "boolean"),
    ("IsCommercial", "boolean"),
    ("IsPersonal", "boolean"),
    ("IsHealth", "boolean"),
    ("IsLife", "boolean"),
    ("DateCustomerAdded", "date"),
]
CONTACT = [
    ("CustomerId", "string"),
    ("CustomerContactId", "string"),
    ("ContactName", "string"),
    ("Title", "string"),
    ("AddressLine1", "string"),
    ("City", "string"),
    ("State", "string"),
    ("ZipCode", "string"),
    ("BusinessPhone", "string"),
    ("EmailAddress", "string"),
    ("SortOrder", "int"),
]
POLICY = [
    ("CustomerId", "string"),
    ("PolicyId", "string"),
    ("PolicyNumber", "string"),
    ("TypeOfBusiness", "string"),
    ("PolicyType", "string"),
    ("WritingCompanyCode", "string"),
    ("PolicyEffectiveDate", "date"),
    ("PolicyExpirationDate", "date"),
    ("PolicyStatus", "string"),
    ("BillMethod", "string"),
    ("FullTermPremium", "decimal"),
    ("LineOfBusinessList", "list"),
    ("PriorPolicyId", "string"),
]
TYPES = {"Customer": CUSTOMER, "CustomerContact": CONTACT, "Policy": POLICY}

# operation -> (request fields [(name, type, min occurs)], result: (name, type, many) or None)
OPERATIONS = {
    "CustomerGetById": ([("CustomerId", "string", 1)], ("Customer", "Customer", False)),
    "CustomerGetByNumber": ([("CustomerNumber", "int", 1)], ("Customer", "Customer", False)),
    "CustomerGetListByNamePrefix": ([("NamePrefix", "string", 1), ("CustomerType", "string", 0)], ("Customer", "Customer", True)),
    "CustomerInsert": ([("Customer", "Customer", 1)], ("CustomerId", "string", False)),
    "CustomerUpdate": ([("Customer", "Customer", 1)], None),
    "CustomerContactGetList": ([("CustomerId", "string", 1)], ("CustomerContact", "CustomerContact", True)),
    "CustomerContactInsert": ([("CustomerContact", "CustomerContact", 1)], ("CustomerContactId", "string", False)),
    "CustomerContactUpdate": ([("CustomerContact", "CustomerContact", 1)], None),
    "CustomerContactDelete": ([("CustomerContactId", "string", 1)], None),
    "PolicyGet": ([("PolicyId", "string", 1)], ("Policy", "Policy", False)),
    "PolicyGetListByCustomerId": ([("CustomerId", "string", 1), ("PolicyStatus", "string", 0)], ("Policy", "Policy", True)),
    "PolicyGetListByPolicyNumber": ([("PolicyNumber", "string", 1)], ("Policy", "Policy", True)),
    "PolicyInsert": ([("Policy", "Policy", 1)], ("PolicyId", "string", False)),
    "PolicyRenew": ([("Policy", "Policy", 1)], ("PolicyId", "string", False)),
}


def _type(t: str) -> str:
    return f"tns:{t}" if t in TYPES else f"xsd:{t}"


def _complex(name: str, fields) -> str:
    rows = []
    for field, t in fields:
        if t == "list":
            rows.append(f'<xsd:element name="{field}" minOccurs="0" type="tns:ArrayOfLineOfBusiness"/>')
        else:
            rows.append(f'<xsd:element name="{field}" minOccurs="0" nillable="true" type="{_type(t)}"/>')
    return f'<xsd:complexType name="{name}"><xsd:sequence>{"".join(rows)}</xsd:sequence></xsd:complexType>'


def wsdl(location: str) -> str:
    types = [_complex(name, fields) for name, fields in TYPES.items()]
    types.append(
        '<xsd:complexType name="ArrayOfLineOfBusiness"><xsd:sequence>'
        '<xsd:element name="LineOfBusiness" minOccurs="0" maxOccurs="unbounded" type="xsd:string"/>'
        "</xsd:sequence></xsd:complexType>"
    )
    elements = [
        '<xsd:element name="WSAPISession"><xsd:complexType><xsd:sequence>'
        '<xsd:element name="Ticket" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>',
        '<xsd:element name="WSAPISecurityFault"><xsd:complexType><xsd:sequence>'
        '<xsd:element name="Message" type="xsd:string"/><xsd:element name="CausalityId" type="xsd:string" minOccurs="0"/>'
        "</xsd:sequence></xsd:complexType></xsd:element>",
        '<xsd:element name="WSAPIGeneralFault"><xsd:complexType><xsd:sequence>'
        '<xsd:element name="Message" type="xsd:string"/></xsd:sequence></xsd:complexType></xsd:element>',
        '<xsd:element name="Login"><xsd:complexType><xsd:sequence>'
        '<xsd:element name="AgencyNo" type="xsd:string"/><xsd:element name="LoginId" type="xsd:string"/>'
        '<xsd:element name="Password" type="xsd:string"/><xsd:element name="EmployeeCode" type="xsd:string" minOccurs="0"/>'
        "</xsd:sequence></xsd:complexType></xsd:element>",
        '<xsd:element name="LoginResponse"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>',
    ]
    messages = [
        '<wsdl:message name="LoginIn"><wsdl:part name="parameters" element="tns:Login"/></wsdl:message>',
        '<wsdl:message name="LoginOut"><wsdl:part name="parameters" element="tns:LoginResponse"/>'
        '<wsdl:part name="WSAPISession" element="tns:WSAPISession"/></wsdl:message>',
        '<wsdl:message name="Session"><wsdl:part name="WSAPISession" element="tns:WSAPISession"/></wsdl:message>',
        '<wsdl:message name="SecurityFault"><wsdl:part name="detail" element="tns:WSAPISecurityFault"/></wsdl:message>',
        '<wsdl:message name="GeneralFault"><wsdl:part name="detail" element="tns:WSAPIGeneralFault"/></wsdl:message>',
    ]
    port_ops = [
        '<wsdl:operation name="Login"><wsdl:input message="tns:LoginIn"/><wsdl:output message="tns:LoginOut"/>'
        '<wsdl:fault name="WSAPISecurityFault" message="tns:SecurityFault"/></wsdl:operation>'
    ]
    faults = (
        '<wsdl:fault name="WSAPISecurityFault"><soap:fault name="WSAPISecurityFault" use="literal"/></wsdl:fault>'
        '<wsdl:fault name="WSAPIGeneralFault"><soap:fault name="WSAPIGeneralFault" use="literal"/></wsdl:fault>'
    )
    binding_ops = [
        f'<wsdl:operation name="Login"><soap:operation soapAction="{NS}/Login" style="document"/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal" parts="parameters"/>'
        '<soap:header message="tns:LoginOut" part="WSAPISession" use="literal"/></wsdl:output>'
        '<wsdl:fault name="WSAPISecurityFault"><soap:fault name="WSAPISecurityFault" use="literal"/></wsdl:fault>'
        "</wsdl:operation>"
    ]
    for op, (inputs, result) in OPERATIONS.items():
        seq = "".join(f'<xsd:element name="{n}" type="{_type(t)}" minOccurs="{m}"/>' for n, t, m in inputs)
        elements.append(f'<xsd:element name="{op}"><xsd:complexType><xsd:sequence>{seq}</xsd:sequence></xsd:complexType></xsd:element>')
        out = ""
        if result:
            name, t, many = result
            if many:
                out = (
                    f'<xsd:element name="{op}Result" minOccurs="0"><xsd:complexType><xsd:sequence>'
                    f'<xsd:element name="{name}" type="{_type(t)}" minOccurs="0" maxOccurs="unbounded"/>'
                    "</xsd:sequence></xsd:complexType></xsd:element>"
                )
            else:
                out = f'<xsd:element name="{op}Result" type="{_type(t)}" minOccurs="0"/>'
        elements.append(f'<xsd:element name="{op}Response"><xsd:complexType><xsd:sequence>{out}</xsd:sequence></xsd:complexType></xsd:element>')
        messages.append(f'<wsdl:message name="{op}In"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message>')
        messages.append(f'<wsdl:message name="{op}Out"><wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>')
        port_ops.append(
            f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}In"/><wsdl:output message="tns:{op}Out"/>'
            '<wsdl:fault name="WSAPISecurityFault" message="tns:SecurityFault"/>'
            '<wsdl:fault name="WSAPIGeneralFault" message="tns:GeneralFault"/></wsdl:operation>'
        )
        binding_ops.append(
            f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}/{op}" style="document"/>'
            '<wsdl:input><soap:body use="literal" parts="parameters"/>'
            '<soap:header message="tns:Session" part="WSAPISession" use="literal"/></wsdl:input>'
            f'<wsdl:output><soap:body use="literal"/></wsdl:output>{faults}</wsdl:operation>'
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="{NS}" targetNamespace="{NS}" name="WSAPIService">
<wsdl:types><xsd:schema targetNamespace="{NS}" elementFormDefault="qualified">
{"".join(types)}
{"".join(elements)}
</xsd:schema></wsdl:types>
{"".join(messages)}
<wsdl:portType name="WSAPIServiceSoap">{"".join(port_ops)}</wsdl:portType>
<wsdl:binding name="WSAPIServiceSoap" type="tns:WSAPIServiceSoap">
<soap:binding transport="http://schemas.xmlsoap.org/soap/http" style="document"/>
{"".join(binding_ops)}
</wsdl:binding>
<wsdl:service name="WSAPIService"><wsdl:port name="WSAPIServiceSoap" binding="tns:WSAPIServiceSoap">
<soap:address location="{escape(location)}"/></wsdl:port></wsdl:service>
</wsdl:definitions>"""
