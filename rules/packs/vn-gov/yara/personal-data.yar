// Citizens' personal data in cleartext: many CCCD (citizen identity card) numbers or phone
// numbers in one artifact. A CCCD number is 12 digits: a province code (Circular 07/2016/TT-BCA),
// a century-and-sex digit (0-3 for 1900-2099), two digits of the birth year, six more digits.

rule cccd_numbers_bulk : pii
{
    meta:
        description = "Bulk citizen identity numbers (CCCD) sent in cleartext"
        severity = "high"
    strings:
        $cccd = /[^0-9](001|002|004|006|008|010|011|012|014|015|017|019|020|022|024|025|026|027|030|031|033|034|035|036|037|038|040|042|044|045|046|048|049|051|052|054|056|058|060|062|064|066|067|068|070|072|074|075|077|079|080|082|083|084|086|087|089|091|092|093|094|095|096)[0-3][0-9]{8}[^0-9]/
    condition:
        service != "ssl" and #cccd >= 10
}

rule phone_numbers_bulk : pii
{
    meta:
        description = "Bulk Vietnamese mobile phone numbers sent in cleartext"
        severity = "medium"
    strings:
        // Mobile prefixes in use since the 2018 renumbering (03x Viettel, 05x Vietnamobile and
        // Gmobile, 07x MobiFone, 08x VinaPhone and others, 09x all): three digits to anchor on
        // rather than two, which keeps the scan fast on numeric data.
        $phone = /[^0-9](03[2-9]|05[2689]|07[06-9]|08[1-9]|09[0-9])[0-9]{7}[^0-9]/
    condition:
        service != "ssl" and #phone >= 20
}
