"""A year of billing records is written in documents of at most 1,000 records of one issuer
(SuministroLR.xsd: RegistroFactura maxOccurs="1000", one ObligadoEmision per document)."""

from types import SimpleNamespace

from domain.adapters.verifactu_xml import batches


def records(nif: str, count: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(issuer_nif=nif, n=n) for n in range(count)]


def test_a_year_of_2500_records_is_three_documents():
    assert [len(b) for b in batches(records("12345678Z", 2500))] == [1000, 1000, 500]


def test_exactly_1000_records_fit_in_one_document():
    assert [len(b) for b in batches(records("12345678Z", 1000))] == [1000]


def test_a_new_issuer_starts_a_new_document():
    found = list(batches(records("12345678Z", 3) + records("87654321X", 2)))
    assert [(b[0].issuer_nif, len(b)) for b in found] == [("12345678Z", 3), ("87654321X", 2)]


def test_no_records_no_document():
    assert list(batches([])) == []
