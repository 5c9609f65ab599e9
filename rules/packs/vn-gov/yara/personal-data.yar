// Citizens' personal data in cleartext: many CCCD (citizen identity card) numbers or mobile
// phone numbers in one artifact.
//
// The numbers are counted by Canh, not matched here: `cccd_numbers` and `phone_numbers` are
// external variables set for every scan (see analyzer/src/pii.rs for what counts: a CCCD is
// 12 digits, a province code of Circular 07/2016/TT-BCA then a century-and-sex digit 0-3; a
// mobile number is 10 digits with a prefix in use since the 2018 renumbering, or 84 and 9
// digits). As regular expressions, they had only a few digits to anchor on, and in numeric
// data (CSV, JSON) their verification cost more than all other rules together.

rule cccd_numbers_bulk : pii
{
    meta:
        description = "Bulk citizen identity numbers (CCCD) sent in cleartext"
        severity = "high"
    condition:
        service != "ssl" and cccd_numbers >= 10
}

rule phone_numbers_bulk : pii
{
    meta:
        description = "Bulk Vietnamese mobile phone numbers sent in cleartext"
        severity = "medium"
    condition:
        service != "ssl" and phone_numbers >= 20
}
