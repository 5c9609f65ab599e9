// Credentials on the wire in cleartext, seen in the client's stream head or request body.

rule mail_ftp_cleartext_login : credentials
{
    meta:
        description = "Cleartext login: FTP/POP3 PASS, IMAP LOGIN or SMTP AUTH"
        severity = "high"
    strings:
        $pass = /(^|\n)PASS [^\r\n]{1,128}\r?\n/
        $imap = /(^|\n)[A-Za-z0-9.]{1,20} LOGIN [^\r\n]{1,256}\r?\n/ nocase
        $smtp = /(^|\n)AUTH (LOGIN|PLAIN)/ nocase
    condition:
        source == "TCP" and is_orig and service != "ssl" and any of them
}

rule password_form_field_over_http : credentials
{
    meta:
        description = "Password form field submitted over plain HTTP"
        severity = "high"
    strings:
        $field = /(^|&)(password|passwd|pwd|pass|matkhau|mat_khau|mat-khau)=[^&\r\n]{1,}/ nocase
    condition:
        source == "HTTP" and is_orig and $field
}
