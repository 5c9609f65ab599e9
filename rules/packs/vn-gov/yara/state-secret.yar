// State-secret markings (độ mật) on documents leaving the agency network. Vietnamese letters
// are matched as their precomposed UTF-8 bytes, upper and lower case; `nocase` covers the
// ASCII letters, so each marking is found with and without diacritics, in any case.
//   Ố E1 BB 90  ố E1 BB 91   Ậ E1 BA AC  ậ E1 BA AD   Ệ E1 BB 86  ệ E1 BB 87
//   Đ C4 90     đ C4 91      Ộ E1 BB 98  ộ E1 BB 99

rule toi_mat_or_tuyet_mat : dlp state_secret
{
    meta:
        description = "Document marked TỐI MẬT or TUYỆT MẬT (top / absolute secret) leaving the LAN"
        severity = "critical"
    strings:
        $toi_mat = /(^|[^a-z])t(\xE1\xBB\x90|\xE1\xBB\x91|o)i[ \t\r\n]{1,3}m(\xE1\xBA\xAC|\xE1\xBA\xAD|a)t([^a-z]|$)/ nocase
        $tuyet_mat = /(^|[^a-z])tuy(\xE1\xBB\x86|\xE1\xBB\x87|e)t[ \t\r\n]{1,3}m(\xE1\xBA\xAC|\xE1\xBA\xAD|a)t([^a-z]|$)/ nocase
    condition:
        leaving and any of them
}

rule mat_marking : dlp state_secret
{
    meta:
        description = "Document marked MẬT (secret) leaving the LAN"
        severity = "high"
    strings:
        // The stamp alone on a line, in capitals ("MẬT" or "MAT")...
        $stamp = /(^|\n)[ \t]*M(\xE1\xBA\xAC|A)T[ \t]*\r?(\n|$)/
        // ...or the label "Độ mật: Mật".
        $label = /(\xC4\x90|\xC4\x91|d)(\xE1\xBB\x98|\xE1\xBB\x99|o)[ \t]{1,3}m(\xE1\xBA\xAC|\xE1\xBA\xAD|a)t[ \t]*:[ \t]*m(\xE1\xBA\xAC|\xE1\xBA\xAD|a)t([^a-z]|$)/ nocase
    condition:
        leaving and any of them
}
