"""The Verifactu fingerprint against the agency's worked examples, byte for byte.

AEAT, "Detalle de las especificaciones técnicas para generación de la huella o hash de los
registros de facturación" v0.1.2 (27/08/2024), its examples: the inputs and expected digests
below are copied from that document (as two independent public implementations quote it),
never computed by the code under test.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.model.fingerprints import (
    REGISTRATION_FIELDS,
    cancellation_fingerprint,
    hashed_text,
    record_amount,
    record_date,
    record_time,
    registration_fingerprint,
)

FIRST = "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60"
SECOND = "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97"
CANCELLED = "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68"
FIRST_TEXT = ("IDEmisorFactura=89890001K&NumSerieFactura=12345678/G33&FechaExpedicionFactura=01-01-2024"
              "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
              "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00")
CANCELLED_TEXT = ("IDEmisorFacturaAnulada=89890001K&NumSerieFacturaAnulada=12345679/G34"
                  "&FechaExpedicionFacturaAnulada=01-01-2024&Huella=" + SECOND +
                  "&FechaHoraHusoGenRegistro=2024-01-01T19:20:40+01:00")
MADRID_WINTER = timezone(timedelta(hours=1))


def first(**changed):
    fields = dict(issuer_nif="89890001K", number="12345678/G33", issued_on="01-01-2024", invoice_type="F1",
                  tax_total="12.35", total="123.45", previous="", generated_at="2024-01-01T19:20:30+01:00")
    return registration_fingerprint(**fields | changed)


class TestTheAgencysExamples:
    def test_the_first_registration_of_a_chain_has_an_empty_previous_fingerprint(self):
        assert hashed_text(REGISTRATION_FIELDS, ("89890001K", "12345678/G33", "01-01-2024", "F1", "12.35",
                                                 "123.45", "", "2024-01-01T19:20:30+01:00")) == FIRST_TEXT
        assert first() == FIRST

    def test_the_second_registration_is_chained_to_the_first(self):
        assert first(number="12345679/G34", previous=FIRST, generated_at="2024-01-01T19:20:35+01:00") == SECOND

    def test_a_cancellation_is_chained_to_the_registration_before_it(self):
        assert cancellation_fingerprint(issuer_nif="89890001K", number="12345679/G34", issued_on="01-01-2024",
                                        previous=SECOND, generated_at="2024-01-01T19:20:40+01:00") == CANCELLED

    def test_values_are_trimmed_at_both_ends_only(self):
        assert first(issuer_nif=" 89890001K ", total="123.45 ") == FIRST
        assert first(number="12345678 /G33") != FIRST


class TestEveryFieldCounts:
    @pytest.mark.parametrize("field, value", [
        ("issuer_nif", "89890001L"), ("number", "12345678/G34"), ("issued_on", "02-01-2024"),
        ("invoice_type", "R1"), ("tax_total", "12.36"), ("total", "123.4"), ("previous", SECOND),
        ("generated_at", "2024-01-01T19:20:30+02:00"),
    ])
    def test_changing_one_field_changes_the_fingerprint(self, field, value):
        assert first(**{field: value}) != FIRST


class TestTheTextsOfARecord:
    def test_a_date_is_day_month_year(self):
        assert record_date(date(2024, 1, 1)) == "01-01-2024"
        assert record_date(date(2026, 12, 31)) == "31-12-2026"

    @pytest.mark.parametrize("amount, text", [
        ("123.45", "123.45"), ("12.3", "12.30"), ("0", "0.00"), ("-0.00", "0.00"), ("-10", "-10.00"),
        ("1000000.5", "1000000.50"),
    ])
    def test_an_amount_has_a_dot_and_two_decimals(self, amount, text):
        assert record_amount(Decimal(amount)) == text

    def test_the_generation_time_states_its_offset_to_the_second(self):
        moment = datetime(2024, 1, 1, 19, 20, 30, 123456, tzinfo=MADRID_WINTER)
        assert record_time(moment) == "2024-01-01T19:20:30+01:00"
        assert first(generated_at=record_time(moment)) == FIRST

    def test_a_time_without_a_zone_is_refused(self):
        with pytest.raises(ValueError, match="time zone"):
            record_time(datetime(2024, 1, 1, 19, 20, 30))


class TestTheValidationUrl:
    def test_the_agencys_example(self):
        """AEAT's QR specification: 12345678&G33 of 89890001K, 01-01-2024, 241.4, in its test
        environment."""
        from domain.model.billing_records import validation_url

        assert validation_url(issuer_nif="89890001K", number="12345678&G33", issued_on="01-01-2024", total="241.4",
                              mode="verifactu", environment="test") == (
            "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678%26G33"
            "&fecha=01-01-2024&importe=241.4")

    def test_a_record_kept_by_the_issuer_has_its_own_address(self):
        from domain.model.billing_records import validation_url

        assert validation_url(issuer_nif="12345678Z", number="F-2026-001", issued_on="15-01-2026", total="4840.00",
                              mode="no-verifactu") == (
            "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQRNoVerifactu?nif=12345678Z"
            "&numserie=F-2026-001&fecha=15-01-2026&importe=4840.00")


# The event log's entry (section 3 of the same specification): the document gives the text of its
# example, not a digest; the digest below is that text's SHA-256 by hashlib, not by tratos.
EVENT_TEXT = ("NIF=89890001K&ID=&IdSistemaInformatico=77&Version=1.0.03&NumeroInstalacion=383&NIF=89890002E"
              "&TipoEvento=01&HuellaEvento=&FechaHoraHusoGenEvento=2024-01-01T19:20:30+01:00")


def test_an_event_is_hashed_over_the_agencys_nine_fields_in_its_order():
    import hashlib

    from domain.model.fingerprints import EVENT_FIELDS, event_fingerprint

    values = ("89890001K", "", "77", "1.0.03", "383", "89890002E", "01", "", "2024-01-01T19:20:30+01:00")
    assert hashed_text(EVENT_FIELDS, values) == EVENT_TEXT
    expected = hashlib.sha256(EVENT_TEXT.encode()).hexdigest().upper()
    assert event_fingerprint(producer_nif="89890001K", system_id="77", version="1.0.03", installation="383",
                             issuer_nif="89890002E", event_type="01", previous="",
                             generated_at="2024-01-01T19:20:30+01:00") == expected
    assert event_fingerprint(producer_nif="89890001K", system_id="77", version="1.0.03", installation="383",
                             issuer_nif="89890002E", event_type="01", previous=expected,
                             generated_at="2024-01-01T19:20:30+01:00") != expected  # chained to the one before
