#!/usr/bin/env python3
"""Generates corpus/benign_wild.jsonl: an independent benign set, written to find false
positives the tuned corpora (benign.jsonl, benign_hard.jsonl) do not.

Most values are real text taken from this machine's documentation: sentences of
/usr/share/doc/*/README*, change entries of Debian changelogs, and the one-line NAME
descriptions of section-1 man pages (the kind of prose users paste into a "comment",
"description" or "notes" field). Hand-written seeds add what docs lack: names and
addresses from many locales, e-mail subjects, search queries, markdown, public URLs,
JSON-in-string, base64, timestamps, SQL and shell words used as English, and plain-API
angle brackets ("<3", "a < b > c"). HTML tags are left out on purpose: a plain JSON/REST
API has no rich-text field by default.

Deterministic for a given set of installed docs (files are read in sorted order, the
selection is seeded); the generated file is committed.
"""
import base64, glob, gzip, json, os, random, re

random.seed(606)
HERE = os.path.dirname(os.path.abspath(__file__))
PLACEMENTS = ["json", "json", "json", "query", "form", "multipart", "xml", "header", "cookie"]
PROSE_FIELDS = ["comment", "description", "notes", "message", "body", "summary", "text", "review"]


def read(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                return f.read()
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def clean(s):
    s = re.sub(r"\s+", " ", s).strip()
    return s


def ok(s, lo=20, hi=220):
    return lo <= len(s) <= hi and "\ufffd" not in s and not any(ord(c) < 32 for c in s)


readme_sents, changes, mannames = [], [], []
for p in sorted(glob.glob("/usr/share/doc/*/README*")):
    txt = read(p)
    for para in re.split(r"\n\s*\n", txt):
        para = clean(para)
        for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para):
            if ok(s, 30, 200) and re.search(r"[a-z]{3,} [a-z]{3,}", s):
                readme_sents.append(s)
for p in sorted(glob.glob("/usr/share/doc/*/changelog*.gz")):
    txt = read(p)
    n = 0
    for line in txt.splitlines():
        m = re.match(r"^\s+\* (.+)$", line)
        if m:
            s = clean(m.group(1))
            if ok(s, 20, 180):
                changes.append(s)
                n += 1
        if n >= 6:
            break
for p in sorted(glob.glob("/usr/share/man/man1/*.1.gz")):
    txt = read(p)
    m = re.search(r"^\.SH\s+\"?NAME\"?\s*\n(.+?)\n", txt, re.M)
    if m:
        s = m.group(1).replace("\\-", "-").replace("\\(em", "-")
        s = re.sub(r"\\f[BIRP]", "", s)
        s = clean(s.replace("\\", ""))
        if ok(s, 10, 150) and " - " in s:
            mannames.append(s)

rows = []


def add(placement, payload, field):
    rows.append({"placement": placement, "payload": payload, "field": field})


def spread(values, fields, k=None, placements=PLACEMENTS):
    vals = list(dict.fromkeys(values))
    if k is not None and len(vals) > k:
        vals = random.sample(vals, k)
    for v in vals:
        add(random.choice(placements), v, random.choice(fields))


spread(readme_sents, PROSE_FIELDS, 150)
spread(changes, ["changelog", "release_notes", "comment", "description", "commit_message"], 110)
spread(mannames, ["description", "summary", "title", "tooltip", "help_text"], 60)

names = ["O'Brien", "Seán Ó Briain", "Ngũgĩ wa Thiong'o", "Jean-Pierre L'Hôte", "Zoë van der Berg",
         "Björk Guðmundsdóttir", "Łucja Wróblewska-Kowalczyk", "Đặng Thị Thu", "Çağla Şıkel",
         "Mbali d'Almeida", "ʻIolani Kealoha", "Ma'ayan Ben-David", "田中 太郎", "김민준", "Αλέξανδρος Παπαδόπουλος",
         "Дмитрий Иванович Петров-Водкин", "Chloé D'Souza", "Aoife Ní Dhomhnaill", "Hélène de la Tour d'Auvergne",
         "Tomás O'Dowd-García", "Nuñez y Cía.", "Ali Al-Farsi", "St. John-Smythe", "Dr. K. R. Narayanan", "Kaʻiulani"]
spread(names, ["full_name", "name", "author", "contact_name", "display_name"],
       placements=["json", "query", "form", "xml", "multipart", "header"])
addresses = ["12 Rue de l'Église, 75004 Paris", "Flat 3/2, 14 O'Connell St, Dublin 1",
             "Unter den Linden 77, 10117 Berlin", "1600 Amphitheatre Pkwy, Mountain View, CA 94043",
             "〒100-0005 東京都千代田区丸の内1-9-1", "Calle de Alcalá 42, 3º izq., 28014 Madrid",
             "PO Box 1234; Station A", "221B Baker Street, London NW1 6XE",
             "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200", "Apt. #5 - 100 Main St. (rear entrance)",
             "ul. Marszałkowska 10/12 m. 5, 00-590 Warszawa", "Strandvägen 7A, 114 56 Stockholm",
             "Unit 4, 20-22 Union Rd & Select Ave, Leeds", "Kerkstraat 1 bus 2, 2000 Antwerpen",
             "Plot 5, Off Drop Lane, Lagos"]
spread(addresses, ["address", "street", "shipping_address", "billing_address"],
       placements=["json", "form", "xml", "multipart"])
subjects = ["Re: [PATCH v2 3/7] net: fix use-after-free in tcp_close()", "Fwd: Q3 report — select items need review",
            "Your order #A-10293 has shipped!", "RE: drop-off time for Friday?", "[URGENT] Server down / 502 errors since 09:40",
            "Meeting: union rep & HR (Room 4B)", "Invoice 2024-118 (due 30/06)", "Re: Re: where do I delete old backups?",
            "Reminder: kill switch test at 3pm", "Sale: 50% off — today only!!!", "Q: sort order by date, not name?",
            "Update on \"Project X\" <internal>", "Out of office: back Mon 12th", "1:1 notes - cat adoption day?"]
spread(subjects, ["subject", "title"], placements=["json", "form", "multipart", "xml", "header"])
queries = ["select comfort mattress", "drop leaf table oak", "union jack cushion", "order by price low to high",
           "where to buy rm williams boots", "kill bill vol 2 dvd", "cat 6 ethernet cable 10m", "time & sort puzzles",
           "\"exact phrase\" -excluded", "c++ vs rust", "a < b", "5' 10\" height chart", "rock 'n' roll", "price:<50",
           "tags:python OR tags:go", "how to exit vim", "what does 'ls -la' mean", "1=1 meaning in sql tutorial",
           "why is select * bad", "sleep apnea machine", "echo dot 4th gen", "ping pong table", "nc state vs unc",
           "sh*t happens mug", "script writing course", "alert dog collar", "eval form template", "chmod calculator",
           "or and not boolean search", "best ssh client windows", "women's t-shirts size m/l"]
spread(queries, ["q", "query", "search", "term"], placements=["query", "query", "json", "form", "cookie"])
md = ["**Steps to reproduce**\n1. Open settings\n2. Click *Delete account*\n3. Nothing happens",
      "See [the docs](https://docs.python.org/3/library/json.html) for details.",
      "Use `git log --oneline | head` to see recent commits.",
      "```\n$ cargo build --release\n```\nfails on Windows with linker error",
      "> Where is the select menu?\n\nIt moved to the top bar.",
      "- [x] drop old table\n- [ ] update docs\n- [ ] notify union members",
      "# Release notes\n\n* Fixed sort order in the list view\n* Removed the `rm -rf` footgun from the install script",
      "Run `ls ~/Downloads` and paste the output here, please.",
      "The error was `TypeError: Cannot read properties of undefined (reading 'id')`.",
      "In Python: `sorted(items, key=lambda x: x['date'])`",
      "SQL we use: `SELECT name FROM users WHERE active = true ORDER BY name` — is that slow?",
      "Config snippet:\n```yaml\nserver:\n  port: 8080\n  host: 0.0.0.0\n```",
      "Set `LOG_LEVEL=debug` and restart with `systemctl restart app`.",
      "Tried `curl -s https://api.example.com/v1/status | jq .` and got 503.",
      "_Note_: cats & dogs welcome; 'no smoking' rule applies.",
      "Table:\n| a | b |\n|---|---|\n| 1 | 2 |"]
spread(md, ["comment", "body", "description", "notes"], placements=["json", "json", "multipart", "form", "xml"])
urls = ["https://en.wikipedia.org/wiki/SQL", "https://www.bbc.co.uk/news/technology",
        "https://github.com/rust-lang/rust/issues/12345", "https://docs.rs/serde/latest/serde/",
        "https://www.google.com/search?q=union+station&hl=en", "https://example.org/a/b?x=1&y=2#frag",
        "https://stackoverflow.com/questions/11227809/why-is-processing-a-sorted-array-faster",
        "https://news.ycombinator.com/item?id=1", "https://www.amazon.de/dp/B08N5WRWNW?ref=select",
        "https://maps.google.com/?q=48.8584,2.2945", "https://developer.mozilla.org/en-US/docs/Web/API/Document/cookie",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "https://cdn.example.net/img/cat.jpg?w=200&h=200"]
spread(urls, ["url", "website", "link", "redirect_uri", "callback"], placements=["json", "query", "form", "xml"])
jsons = [json.dumps({"theme": "dark", "lang": "en-GB"}), json.dumps({"filter": {"status": ["open", "closed"]}, "sort": "-created"}),
         json.dumps([1, 2, 3]), json.dumps({"q": "select", "limit": 10}), json.dumps({"where": {"city": "Paris"}, "order": "name"})]
spread(jsons, ["prefs", "filter", "metadata", "state"], placements=["json", "form", "query", "cookie"])
b64 = [base64.b64encode(s.encode()).decode() for s in ["hello world", "user:42;role=viewer", "{\"a\":1}", "select all",
                                                        "x" * 40, "The quick brown fox"]]
spread(b64, ["token", "state", "data", "cursor"], placements=["json", "query", "cookie", "header"])
stamps = ["2024-06-30T23:59:59Z", "2024-06-30T23:59:59.123+02:00", "Sat, 05 Dec 2026 13:44:24 GMT", "1717171717",
          "30/06/2024 09:00", "2024-W26", "P1DT2H", "12:30 - 13:45", "Mon-Fri 9:00–17:00"]
spread(stamps, ["created_at", "since", "until", "when", "hours"], placements=["json", "query", "form", "header", "xml"])
sqlish = ["Please select a seat near the window and drop me a note with the order number.",
          "We will union the two teams from next week; delete me from the old mailing list.",
          "Where is my order? I ordered by phone on Tuesday.",
          "Select from the options below or drop us a line.",
          "Can you update the table where we keep the guest list?",
          "Insert coin, select drink, then wait.",
          "Drop-off between 5 and 6, or 7 if traffic is bad.",
          "My sister and I want to join; is there a union discount?",
          "I tried to delete the draft, then select it again, but it's still there.",
          "Who's on first, what's on second, I don't know's on third.",
          "1 or 2 people, not 3.", "Choose 'yes' or 'no'.", "It's 5' 10\" and 'very' tall.",
          "Sort by name; then by date.", "I'm grouping these by region -- hope that's ok.",
          "The char limit is 255; the rest gets cut.", "Let's have a case when it rains; else we go out.",
          "Sleep tight; benchmark results tomorrow.", "Version 2.0 or higher and 1=1 support contract?"]
spread(sqlish, PROSE_FIELDS)
shellish = ["Time to kill some time: cat videos, then sort the laundry.",
            "rm the old folder? No — just ls it and tell me what's there.",
            "My cat & my dog | best friends forever",
            "Echo chamber; ping me later.", "Please wait > 5 minutes, then retry.",
            "Q&A: who, what, when, where? $5 entry.", "Cost is $(price) + tax — template not filled",
            "Use the ~/.config folder; not /tmp.", "I typed `sudo apt update` and it asked for a password.",
            "The file is at C:\\Users\\Ana\\Documents\\report.docx", "See /var/log/syslog for details.",
            "Run top, then kill the process using port 8080.", "A | B | C", "Tom & Jerry; Bonnie & Clyde",
            "Email me at ana+orders@example.com; cc bob@example.co.uk", "50% off & free shipping!!!",
            "Price: $19.99 (was $29.99)", "Nice work :) <3", "a < b > c", "x < 10 and y > 3",
            "-> next step", "=> done", "<-- left arrow", "I <3 this app", "rating >= 4", "1 < 2 < 3"]
spread(shellish, PROSE_FIELDS)

random.shuffle(rows)
with open(os.path.join(HERE, "benign_wild.jsonl"), "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "rows", len(readme_sents), len(changes), len(mannames))
