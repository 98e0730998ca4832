"""Import and export: CSV (English/Russian headers, encodings, delimiters), vCard 3.0/4.0, reports, rights."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from core.exchange import columns, csv_io, vcard
from core.models import Organization
from hub.cli.main import app as cli
from tests.records.conftest import API, client_as, make_org, make_person

ORG_CSV_RU = (
    "Название;Телефон;E-mail;Сайт;Потенциал;Дата первого обращения;Теги;Лишняя колонка\r\n"
    "ООО Ромашка;8 (495) 123-45-67;info@romashka.test;romashka.test;3;01.02.2024;vip, опт;x\r\n"
    ";8 495 000 00 01;;;;;;\r\n"
    "Лютик;not a phone;;;;;;\r\n"
    "Василёк;;bad-email;;;;;\r\n"
    "Ромашка ООО;;;;;;;\r\n"
    '"Одуванчик; и партнёры";+7 495 765-43-21;;;9;;;\r\n'
    "Астра;;;;;32.13.2024;;\r\n"
    "Пион;;;;2;;;\r\n"
)


def _import(api, kind, content, name="file.csv", **params):  # noqa: ANN001, ANN003
    return api.post(f"{API}/import/{kind}", params=params, files={"file": (name, content, "text/csv")})


def test_csv_import_mixed_rows_windows_1251(crew, db):
    r = _import(crew.api_a, "organizations", ORG_CSV_RU.encode("cp1251"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["encoding"], report["delimiter"]) == ("windows-1251", ";")
    assert report["ignored_columns"] == ["Лишняя колонка"]
    assert report["total"] == 8
    assert [(c["row"], c["name"]) for c in report["created"]] == [(2, "ООО Ромашка"), (9, "Пион")]
    failed = {f["row"]: f for f in report["failed"]}
    assert sorted(failed) == [3, 4, 5, 7, 8]
    assert failed[3]["field"] == "name"
    assert failed[4]["field"] == "phones[0]" and "not a phone" in failed[4]["reason"]
    assert failed[5]["field"] == "emails[0]"
    assert failed[7]["field"] == "potential"
    assert failed[8]["field"] == "first_contact_on" and "32.13.2024" in failed[8]["reason"]
    [dup] = report["duplicates"]
    assert dup["row"] == 6 and dup["existing"]["id"] == report["created"][0]["id"]
    org = crew.api_a.get(f"{API}/organizations/{report['created'][0]['id']}").json()
    assert org["phones"] == ["+74951234567"] and org["emails"] == ["info@romashka.test"]
    assert org["potential"] == 3 and org["first_contact_on"] == "2024-02-01" and sorted(org["tags"]) == ["vip", "опт"]
    assert org["team_id"] == crew.team_a


def test_csv_utf8_bom_comma_english_and_dry_run(crew, db):
    text = (
        '\ufeffName,Phone,Email,Email 2,Notes\nAcme,+1 212 555 0100,a@acme.test,b@acme.test,"multi\nline"\nZeta,,,,\n'
    )
    dry = _import(crew.api_a, "organizations", text.encode("utf-8"), dry_run="true").json()
    assert dry["dry_run"] is True and dry["encoding"] == "utf-8-sig" and dry["delimiter"] == ","
    assert [c["row"] for c in dry["created"]] == [2, 4]  # Acme spans lines 2-3
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
    real = _import(crew.api_a, "organizations", text.encode("utf-8")).json()
    assert len(real["created"]) == 2
    acme = crew.api_a.get(f"{API}/organizations/{real['created'][0]['id']}").json()
    assert acme["emails"] == ["a@acme.test", "b@acme.test"] and acme["notes"] == "multi\nline"
    again = _import(crew.api_a, "organizations", text.encode("utf-8"), dry_run="true").json()
    assert [d["row"] for d in again["duplicates"]] == [2, 4]


def test_import_refuses_a_file_without_a_name_column_and_blocklisted_rows(crew, users):
    from core.models import Role

    r = _import(crew.api_a, "organizations", b"phone,email\n1,2\n")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    manager = client_as(users, "boss@ourcompany.test", role=Role.manager, teams=("A",))
    manager.post(f"{API}/blocklist", json={"kind": "domain", "value": "evil.test"})
    report = _import(crew.api_a, "organizations", b"name,email\nGood,a@good.test\nBad,x@evil.test\n").json()
    assert [c["row"] for c in report["created"]] == [2]
    assert report["failed"][0]["row"] == 3 and "blocklist" in report["failed"][0]["reason"]
    assert _import(crew.api_a, "organizations", b"name\nX\n", team_id=str(crew.team_b)).status_code == 403


def test_person_csv_with_fio_and_companies(crew):
    make_org(crew.api_a, "Ромашка")
    text = (
        "ФИО;Должность;Организация;Телефон;E-mail;Дата рождения\n"
        "Петров Иван Сергеевич;Директор;ООО «Ромашка»;+7 916 123-45-67;ivan@romashka.test;17.05.1980\n"
        "Сидорова Анна;Бухгалтер;Лютик;;anna@lutik.test;\n"
        "Козлов;;;;;31.02.1990\n"
    )
    report = _import(crew.api_a, "persons", text.encode("utf-8")).json()
    assert [c["row"] for c in report["created"]] == [2, 3]
    assert report["organizations_created"] == 1
    assert report["failed"][0]["row"] == 4 and report["failed"][0]["field"] == "birthday"
    ivan = crew.api_a.get(f"{API}/persons/{report['created'][0]['id']}").json()
    assert (ivan["last_name"], ivan["first_name"], ivan["middle_name"]) == ("Петров", "Иван", "Сергеевич")
    assert ivan["birthday"] == "1980-05-17" and ivan["position"] == "Директор"
    assert ivan["organizations"][0]["organization_name"] == "Ромашка"
    anna = crew.api_a.get(f"{API}/persons/{report['created'][1]['id']}").json()
    assert anna["organizations"][0]["organization_name"] == "Лютик"


VCARDS = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Петров;Иван;Сергеевич;;\r\n"
    "FN:Иван Петров\r\n"
    "EMAIL;TYPE=INTERNET,WORK:ivan@romashka.test\r\n"
    "EMAIL;TYPE=HOME:ivan.p@mail.test\r\n"
    "TEL;TYPE=CELL:+7 916 123-45-67\r\n"
    "TEL;TYPE=WORK:8 495 123 45 67\r\n"
    "ORG:ООО Ромашка;Отдел продаж\r\n"
    "TITLE:Директор по\r\n"
    "  продажам\r\n"
    "BDAY:1980-05-17\r\n"
    "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82=\r\n"
    "=20world\r\n"
    "CATEGORIES:vip,partner\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Broken\r\n"
    "FN\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Jane Smith\r\n"
    "N:Smith;Jane;;;\r\n"
    "EMAIL;TYPE=work;PREF=1:jane@acme.test\r\n"
    'TEL;VALUE=uri;TYPE="voice,cell":tel:+1-212-555-0100\r\n'
    "BDAY:--0415\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:No Address\r\n"
    "EMAIL:not-an-email\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Cut Off\r\n"
)


def test_vcard_import_reads_both_versions_and_reports_broken_cards(crew):
    r = _import(crew.api_a, "persons", VCARDS.encode("utf-8"), name="contacts.vcf")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["format"] == "vcard" and report["total"] == 5
    assert [c["row"] for c in report["created"]] == [1, 3]
    failed = {f["row"]: f for f in report["failed"]}
    assert sorted(failed) == [2, 4, 5]
    assert "vCard 2 (line 17) cannot be read" in failed[2]["reason"]
    assert failed[4]["field"] == "emails[0]"
    assert "no END:VCARD" in failed[5]["reason"]
    assert report["created"][1]["warnings"] == ["BDAY '--0415' has no year and was skipped"]
    ivan = crew.api_a.get(f"{API}/persons/{report['created'][0]['id']}").json()
    assert (ivan["first_name"], ivan["middle_name"], ivan["last_name"]) == ("Иван", "Сергеевич", "Петров")
    assert ivan["emails"] == ["ivan@romashka.test", "ivan.p@mail.test"]
    assert ivan["phones"] == ["+79161234567", "+74951234567"]
    assert ivan["position"] == "Директор по продажам"
    assert ivan["birthday"] == "1980-05-17"
    assert ivan["notes"] == "Привет world"
    assert sorted(ivan["tags"]) == ["partner", "vip"]
    assert ivan["organizations"][0]["organization_name"] == "ООО Ромашка"
    jane = crew.api_a.get(f"{API}/persons/{report['created'][1]['id']}").json()
    assert jane["phones"] == ["+12125550100"] and jane["emails"] == ["jane@acme.test"]


def test_vcard_round_trip_both_versions(crew, users):
    org = make_org(crew.api_a, "Ромашка, ООО")
    original = make_person(
        crew.api_a,
        "Иван",
        "Петров",
        middle_name="Сергеевич",
        emails=["ivan@romashka.test", "ivan.p@mail.test"],
        phones=["+79161234567", "+74951234567"],
        position="Директор; по продажам, и т.д.",
        birthday="1980-05-17",
        notes="Первая строка\nвторая, с запятой; и точкой с запятой " + "длинный текст " * 10,
        tags=["vip", "партнёр"],
        organizations=[{"organization_id": org["id"]}],
    )
    exported = {}
    for version in ("3.0", "4.0"):
        r = crew.api_a.get(f"{API}/export/persons.vcf", params={"version": version})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/vcard")
        assert f"VERSION:{version}" in r.text and "UID:crmhub-person-" in r.text
        exported[version] = r.content
    # while the person exists, importing the export again only finds the duplicate
    assert [d["row"] for d in _import(crew.api_a, "persons", exported["3.0"]).json()["duplicates"]] == [1]
    assert crew.api_admin.delete(f"{API}/persons/{original['id']}").status_code == 204
    assert crew.api_admin.delete(f"{API}/organizations/{org['id']}").status_code == 204
    fields = ("first_name", "middle_name", "last_name", "emails", "phones", "position", "birthday", "notes")
    api_c = client_as(users, "carl@ourcompany.test", teams=("C",))
    for version, content in exported.items():
        report = _import(api_c, "persons", content, name="x.vcf").json()
        assert len(report["created"]) == 1, report
        back = api_c.get(f"{API}/persons/{report['created'][0]['id']}").json()
        assert {f: back[f] for f in fields} == {f: original[f] for f in fields}, version
        assert sorted(back["tags"]) == sorted(original["tags"])
        assert back["organizations"][0]["organization_name"] == "Ромашка, ООО"
        assert report["organizations_created"] == (1 if version == "3.0" else 0)
        assert crew.api_admin.delete(f"{API}/persons/{back['id']}").status_code == 204


def test_csv_export_applies_rights_and_filters_and_reimports(crew, db):
    make_org(crew.api_a, "Alpha", potential=5, phones=["+74951112233"], notes='=HYPERLINK("http://x")')
    make_org(crew.api_a, "Gamma", potential=1)
    make_org(crew.api_b, "Beta", potential=5)
    r = crew.api_a.get(f"{API}/export/organizations.csv")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="organizations.csv"'
    table = csv_io.read_csv(r.content)
    assert table.encoding == "utf-8-sig"
    names = [row[1] for _, row in table.rows]
    assert names == ["Alpha", "Gamma"]
    alpha = table.rows[0][1]
    assert alpha[table.header.index("phones")] == "+74951112233"
    assert alpha[table.header.index("notes")].startswith("'=")
    filtered = csv_io.read_csv(crew.api_a.get(f"{API}/export/organizations.csv", params={"potential": 5}).content)
    assert [row[1] for _, row in filtered.rows] == ["Alpha"]
    assert "Beta" in crew.api_admin.get(f"{API}/export/organizations.csv").text
    # the export imports back into another team's empty base
    crew.api_admin.delete(f"{API}/organizations/{crew.api_a.get(f'{API}/organizations').json()['items'][0]['id']}")
    report = _import(crew.api_b, "organizations", r.content).json()
    assert [c["name"] for c in report["created"]] == ["Alpha"]
    assert [d["row"] for d in report["duplicates"]] == [3]
    back = crew.api_b.get(f"{API}/organizations/{report['created'][0]['id']}").json()
    assert back["notes"] == '=HYPERLINK("http://x")' and back["phones"] == ["+74951112233"]

    make_person(crew.api_a, "Ivan", "Petrov", emails=["ivan@a.test"])
    make_person(crew.api_b, "Boris", "Bork")
    persons = csv_io.read_csv(crew.api_a.get(f"{API}/export/persons.csv").content)
    assert [row[persons.header.index("last name")] for _, row in persons.rows] == ["Petrov"]
    assert "Bork" not in crew.api_a.get(f"{API}/export/persons.vcf").text


def test_reading_helpers():
    assert csv_io.sniff_delimiter("a;b;c") == ";"
    assert csv_io.sniff_delimiter("a,b;c,d") == ","
    assert csv_io.sniff_delimiter("a\tb") == "\t"
    assert columns.fold("  E-mail 2 ") == "e mail"
    assert columns.fold("Телефон (рабочий)") == "телефон"
    assert columns.fold("Ф.И.О.") == "ф и о"
    assert columns.escape_cell("+7 495 123-45-67") == "+7 495 123-45-67"
    assert columns.escape_cell("=1+1") == "'=1+1"
    assert columns.unescape_cell("'=1+1") == "=1+1"
    assert columns.unescape_cell("'quoted") == "'quoted"
    assert columns.split_full_name("Петров Иван Сергеевич", russian_order=True) == ("Иван", "Сергеевич", "Петров")
    assert columns.split_full_name("Jane Q Smith", russian_order=False) == ("Jane", "Q", "Smith")
    items, _ = vcard.read_vcards(b"garbage\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:A B\r\nEND:VCARD\r\n")
    assert items[0].values["first_name"] == "A" and items[0].values["last_name"] == "B"
    assert vcard.looks_like_vcard(b"\xef\xbb\xbf\r\nbegin:vcard\r\n")


def test_cli_import_and_export(crew, settings, tmp_path):
    runner = CliRunner()
    source = tmp_path / "orgs.csv"
    source.write_bytes("Название;Телефон\nАльфа;+7 495 111-22-33\nБета;123\n".encode("cp1251"))
    dry = runner.invoke(cli, ["import", "organizations", str(source), "--team", "A", "--dry-run"])
    assert dry.exit_code == 1, dry.output  # one row failed
    assert "1 would be created" in dry.output and "failed" in dry.output
    done = runner.invoke(cli, ["import", "organizations", str(source), "--team", "A"])
    assert "1 created" in done.output
    assert crew.api_a.get(f"{API}/organizations").json()["items"][0]["name"] == "Альфа"
    unknown = runner.invoke(cli, ["import", "organizations", str(source), "--team", "Nope"])
    assert unknown.exit_code == 1 and "no team named 'Nope'" in unknown.output

    vcf = tmp_path / "people.vcf"
    vcf.write_text(VCARDS, encoding="utf-8")
    people = runner.invoke(cli, ["import", "persons", str(vcf), "--team", "A"])
    assert "2 created" in people.output and "vCard 2 (line 17)" in people.output

    out = tmp_path / "out.vcf"
    exported = runner.invoke(cli, ["export", "persons", "--format", "vcf", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_text(encoding="utf-8").count("BEGIN:VCARD") == 2
    listing = runner.invoke(cli, ["export", "organizations"])
    assert listing.exit_code == 0 and "Альфа" in listing.stdout
    assert runner.invoke(cli, ["export", "organizations", "--format", "vcf"]).exit_code == 1
