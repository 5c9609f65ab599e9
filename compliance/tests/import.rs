//! The inventory import on a sheet as agencies keep it, in CSV and as a workbook saved by
//! LibreOffice Calc (tests/fixtures/MANIFEST.md).

use canh_compliance::classify::classify;
use canh_compliance::import::{from_csv, from_workbook};
use canh_compliance::regime::Regime;
use canh_compliance::system::SystemType;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn csv_and_xlsx_give_the_same_inventory() {
    let csv = from_csv(&fixture("inventory.csv"), None).unwrap();
    let xlsx = from_workbook(&fixture("inventory.xlsx"), None).unwrap();
    assert_eq!(csv.systems, xlsx.systems);
    assert_eq!(csv.ignored_columns, ["STT", "Ghi chú"]);
    let codes: Vec<&str> = xlsx.systems.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes, ["mot-cua", "qlvb", "tttd"]);
    let portal = &xlsx.systems[0];
    assert_eq!(portal.owner.name, "UBND tỉnh Lâm Đồng");
    assert_eq!(portal.operator.name, "Trung tâm Công nghệ thông tin và Chuyển đổi số");
    assert_eq!(portal.profile.basic_subjects, 350_000);
    assert_eq!(portal.devices.len(), 2);
    assert_eq!(portal.applications[0].os, "Ubuntu 22.04");
    assert_eq!(xlsx.systems[2].profile.system_type, SystemType::Infrastructure);
    // And they classify as a province expects: the procedures portal and the data centre 3,
    // the document system 2.
    let levels: Vec<u8> =
        xlsx.systems.iter().map(|s| classify(Regime::Nd331, &s.profile).level.unwrap().number()).collect();
    assert_eq!(levels, [3, 2, 3]);
}

#[test]
fn a_workbook_that_is_not_one_is_refused_clearly() {
    let err = from_workbook(b"PK\x03\x04 not really", None).unwrap_err();
    assert!(err.to_string().starts_with("not a workbook"), "{err}");
}
