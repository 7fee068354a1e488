"""SOAP 1.1, document/literal, for the sandbox: one type table drives the served WSDL, the parsing of
requests and the writing of responses, so the three can't disagree.

Requests are parsed with entities and DTDs off and no network (an XML bomb or an external entity
is refused, never expanded). Faults are HTTP 500 with ``Fault/faultcode`` and ``faultstring``.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
SIMPLE = {"string", "int", "long", "boolean", "dateTime", "date", "decimal"}
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True, remove_comments=True, remove_pis=True
)


class SoapFault(Exception):
    """Answered as HTTP 500 with a SOAP 1.1 Fault (``Client``: our request was wrong; ``Server``: theirs)."""

    def __init__(self, faultstring: str, faultcode: str = "Server"):
        super().__init__(faultstring)
        self.faultstring, self.faultcode = faultstring, faultcode


@dataclass(frozen=True)
class F:
    """One element of a sequence: name, type (simple or a complex type's name), min and max occurs."""

    name: str
    type: str = "string"
    min: int = 0
    many: bool = False


@dataclass
class Service:
    name: str
    path: str
    operations: list[str]
    header: bool = True  # operations carry the session header


class Schema:
    def __init__(
        self,
        *,
        ns: str,
        types: dict[str, list[F]],
        operations: dict[str, tuple[list[F], list[F]]],
        services: list[Service],
        header: tuple[str, list[F]],
        docs: dict[str, str] | None = None,
    ):
        self.ns, self.types, self.operations, self.services = ns, types, operations, services
        self.header_name, self.header_fields = header
        self.docs = docs or {}

    # --- WSDL -----------------------------------------------------------------------------------
    def wsdl(self, base_url: str) -> bytes:
        q = lambda ns, tag: f"{{{ns}}}{tag}"  # noqa: E731
        root = etree.Element(
            q(WSDL, "definitions"),
            nsmap={"wsdl": WSDL, "soap": WSDL_SOAP, "xsd": XSD, "tns": self.ns},
            targetNamespace=self.ns,
            name="BrokerConnectV4",
        )
        types = etree.SubElement(root, q(WSDL, "types"))
        schema = etree.SubElement(types, q(XSD, "schema"), targetNamespace=self.ns, elementFormDefault="qualified")
        for name, fields in {**self.types, self.header_name: self.header_fields}.items():
            complex_type = etree.SubElement(schema, q(XSD, "complexType"), name=name)
            self._sequence(complex_type, fields)
        for op, (inp, out) in self.operations.items():
            for element_name, fields in ((op, inp), (f"{op}Response", out)):
                element = etree.SubElement(schema, q(XSD, "element"), name=element_name)
                if op in self.docs and element_name == op:
                    doc = etree.SubElement(etree.SubElement(element, q(XSD, "annotation")), q(XSD, "documentation"))
                    doc.text = self.docs[op]
                self._sequence(etree.SubElement(element, q(XSD, "complexType")), fields)
        etree.SubElement(schema, q(XSD, "element"), name=self.header_name, type=f"tns:{self.header_name}")
        header_message = etree.SubElement(root, q(WSDL, "message"), name=f"{self.header_name}Message")
        etree.SubElement(header_message, q(WSDL, "part"), name=self.header_name, element=f"tns:{self.header_name}")
        for op in self.operations:
            for suffix, element in (("Request", op), ("Response", f"{op}Response")):
                message = etree.SubElement(root, q(WSDL, "message"), name=f"{op}{suffix}")
                etree.SubElement(message, q(WSDL, "part"), name="parameters", element=f"tns:{element}")
        for service in self.services:
            port_type = etree.SubElement(root, q(WSDL, "portType"), name=f"{service.name}PortType")
            for op in service.operations:
                operation = etree.SubElement(port_type, q(WSDL, "operation"), name=op)
                etree.SubElement(operation, q(WSDL, "input"), message=f"tns:{op}Request")
                etree.SubElement(operation, q(WSDL, "output"), message=f"tns:{op}Response")
            binding = etree.SubElement(root, q(WSDL, "binding"), name=f"{service.name}Binding", type=f"tns:{service.name}PortType")
            etree.SubElement(binding, q(WSDL_SOAP, "binding"), style="document", transport="http://schemas.xmlsoap.org/soap/http")
            for op in service.operations:
                operation = etree.SubElement(binding, q(WSDL, "operation"), name=op)
                etree.SubElement(operation, q(WSDL_SOAP, "operation"), soapAction="")
                inp = etree.SubElement(operation, q(WSDL, "input"))
                etree.SubElement(inp, q(WSDL_SOAP, "body"), use="literal")
                if service.header:
                    etree.SubElement(inp, q(WSDL_SOAP, "header"), message=f"tns:{self.header_name}Message", part=self.header_name, use="literal")
                out = etree.SubElement(operation, q(WSDL, "output"))
                etree.SubElement(out, q(WSDL_SOAP, "body"), use="literal")
            svc = etree.SubElement(root, q(WSDL, "service"), name=service.name)
            port = etree.SubElement(svc, q(WSDL, "port"), name=f"{service.name}Port", binding=f"tns:{service.name}Binding")
            etree.SubElement(port, q(WSDL_SOAP, "address"), location=f"{base_url.rstrip('/')}{service.path}")
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def _sequence(self, parent, fields: list[F]) -> None:
        sequence = etree.SubElement(parent, f"{{{XSD}}}sequence")
        for f in fields:
            attrs = {
                "name": f.name,
                "type": f"xsd:{f.type}" if f.type in SIMPLE else f"tns:{f.type}",
                "minOccurs": str(f.min),
                "maxOccurs": "unbounded" if f.many else "1",
            }
            etree.SubElement(sequence, f"{{{XSD}}}element", **attrs)

    # --- requests -------------------------------------------------------------------------------
    def parse(self, body: bytes) -> tuple[str, dict, dict]:
        """(operation, arguments, header values) of one request; a ``SoapFault`` (Client) if malformed."""
        try:
            envelope = etree.fromstring(body, PARSER)
        except etree.XMLSyntaxError as exc:
            raise SoapFault(f"The request is not well-formed XML: {exc}", "Client") from None
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise SoapFault("The request is not a SOAP 1.1 envelope.", "Client")
        header_values = {}
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        if header is not None:
            element = header.find(f"{{{self.ns}}}{self.header_name}")
            if element is not None:
                header_values = self._read(element, self.header_fields)
        body_el = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body_el is None or len(body_el) == 0:
            raise SoapFault("The envelope has no Body.", "Client")
        call = body_el[0]
        name = etree.QName(call).localname
        if etree.QName(call).namespace != self.ns or name not in self.operations:
            raise SoapFault(f"Unknown operation {name!r}.", "Client")
        return name, self._read(call, self.operations[name][0]), header_values

    def _read(self, element, fields: list[F]) -> dict:
        by_name = {f.name: f for f in fields}
        out: dict = {f.name: [] for f in fields if f.many}
        for child in element:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            f = by_name.get(name)
            if f is None:
                raise SoapFault(f"Unexpected element {name!r} in {etree.QName(element).localname}.", "Client")
            if child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true":
                value = None
            elif f.type in SIMPLE:
                value = self._simple(f, child.text or "")
            else:
                value = self._read(child, self.types[f.type])
            if f.many:
                out[name].append(value)
            else:
                out[name] = value
        return out

    @staticmethod
    def _simple(f: F, text: str):
        text = text.strip()
        try:
            if f.type in ("int", "long"):
                return int(text)
            if f.type == "boolean":
                if text not in ("true", "false", "1", "0"):
                    raise ValueError
                return text in ("true", "1")
            if f.type == "decimal":
                return str(Decimal(text))
        except (ValueError, InvalidOperation):
            raise SoapFault(f"{f.name}: {text!r} is not a valid {f.type}.", "Client") from None
        return text

    # --- responses ------------------------------------------------------------------------------
    def response(self, operation: str, values: dict) -> bytes:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "bp": self.ns})
        body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
        self._write(etree.SubElement(body, f"{{{self.ns}}}{operation}Response"), self.operations[operation][1], values)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")

    def _write(self, parent, fields: list[F], values: dict) -> None:
        for f in fields:
            value = values.get(f.name)
            for item in (value or []) if f.many else [value]:
                if item is None:
                    continue
                child = etree.SubElement(parent, f"{{{self.ns}}}{f.name}")
                if f.type in SIMPLE:
                    child.text = ("true" if item else "false") if f.type == "boolean" else str(item)
                else:
                    self._write(child, self.types[f.type], item)

    @staticmethod
    def fault(exc: SoapFault) -> bytes:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
        fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = f"soap:{exc.faultcode}"
        etree.SubElement(fault, "faultstring").text = exc.faultstring
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
