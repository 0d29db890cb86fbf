#!/usr/bin/env python3
"""Generates corpus/benign.jsonl: realistic values an API receives, in realistic places.

Hand-written seeds (names, prose, code, URLs, addresses ...) are combined with field names
and placements. The tricky cases are deliberate: apostrophes, SQL and shell words in
prose, code snippets in comment fields, markup in markdown, quotes and operators in
search queries. Deterministic.
"""
import json, os, random, base64, hashlib

random.seed(11)
HERE = os.path.dirname(os.path.abspath(__file__))
rows = []

def add(placement, payload, field=None):
    r = {"placement": placement, "payload": payload}
    if field:
        r["field"] = field
    rows.append(r)

names = ["O'Brien", "D'Angelo", "Mary-Jane O'Neil", "Seán Ó Briain", "José Álvarez", "François L'Écuyer", "Zoë Saldaña",
         "李小龙", "王芳", "محمد عبد الله", "Ólafur Arnalds", "Jean-Luc d'Artagnan", "Renée O'Connor-Smith", "Dr. Anne-Marie St. John",
         "Nguyễn Văn An", "Søren Kierkegaard", "Łukasz Żółć", "Ng'ang'a Wambui", "Ma'ayan Levi", "Kʼicheʼ Speaker", "Bob \"Bobby\" Tables",
         "Miles O'Keeffe", "Conan O'Brien", "Shaquille O'Neal", "Georgia O'Keeffe", "Jack D'Arcy", "Amélie Poulain", "Ümit Özdemir"]
prose = [
    "Please select the best option from our menu and update your order before Friday.",
    "I want to drop the yearly plan and switch to monthly; can you update my account?",
    "Union members will select a delegate from each table at the meeting.",
    "Where can I find the delete button? I'd like to remove my old address.",
    "The cat sat on the mat; then it ran & hid under the bed.",
    "Order by phone or online -- whichever you prefer!",
    "Insert tab A into slot B, then screw the panel back on.",
    "Our script for the play opens with an alert from the narrator.",
    "Note: the sleep study starts at 10 pm; bring your own pillow.",
    "Salt & pepper, then bake for 20-25 minutes at 180°C.",
    "Is 5 > 3? Yes. And 2 < 4, obviously.",
    "We're \"thrilled\" with the results — 100% of users agreed.",
    "Select all that apply (you can choose more than one).",
    "Rock & roll | jazz | blues are my favourite genres.",
    "I'm not sure if it's 'or' or 'and' in the contract, can you check?",
    "Ping me when you're done, then we'll cat-sit for the neighbours.",
    "Where's the 1=1 meeting scheduled? (the one-on-one, I mean)",
    "This is a 10/10 product; would buy again!!!",
    "Bring: tent, sleeping bag, water (2L), snacks; optional: guitar.",
    "Price went from $19.99 to $24.99 — why the change?",
    "Hi team,\nThe deploy is scheduled for Monday.\nThanks,\nAna",
    "Dear Sir/Madam,\n\nI would like to request a refund for order #4521.\n\nKind regards,\nTom",
    "Je voudrais annuler ma commande, s'il vous plaît.",
    "¿Dónde está la estación de tren más cercana?",
    "Ich möchte meine Bestellung ändern: statt 2 bitte 3 Stück.",
    "这个产品非常好，我会推荐给朋友。", "配送先の住所を変更したいです。", "مرحبا، أريد تغيير كلمة المرور الخاصة بي",
    "Отличный сервис, спасибо!", "Great job 🎉🚀 thanks for the quick fix 👍", "שלום, אני צריך עזרה עם ההזמנה שלי",
    "The function returns null if the user doesn't exist.",
    "Use the admin panel to create a new user, then set their role to 'editor'.",
    "He said: \"it's fine\" -- and then left.",
    "Our office is at 12 O'Connell St. (2nd floor), Dublin.",
    "Fixed a bug where the sort order by date was wrong.",
    "Thanks for the help! :) ;) <3",
    "Update: the shipment is delayed; new ETA is 2024-05-03.",
    "can u plz reset my pw, i forgot it lol",
    "My son's school (St. Mary's) needs 3 copies.",
    "A+ service, 5/5 would recommend; the team's response time was < 1h.",
    "The meeting is from 9:00-10:30 a.m. in room #204.",
    "Include the header and footer in the print version.",
    "From the table, choose the row where the total is highest.",
    "Drop-off is between 8 and 9; pick-up after 5.",
    "The union of two sets A and B contains all elements of either.",
    "Execute the plan step by step; don't skip the review.",
    "Shell out $5 for the premium version, it's worth it.",
    "I'm 100% sure the password field isn't saving.",
]
code = [
    "SELECT id, name FROM customers WHERE country = 'DE' ORDER BY name;",
    "for (let i = 0; i < items.length; i++) { total += items[i].price; }",
    "def add(a, b):\n    return a + b",
    "if (x > 0 && y < 10) { return true; }",
    "const user = await db.users.findOne({ id });",
    "git commit -m \"fix: handle empty list\"",
    "npm install --save lodash",
    "docker run -p 8080:80 nginx",
    "<div class=\"card\"><p>Hello</p></div>",
    "```python\nprint('hello world')\n```",
    "`npm test` fails on my machine with exit code 1",
    "The regex ^[a-z0-9_-]{3,16}$ validates usernames.",
    "Use `git rebase -i HEAD~3` to squash.",
    "public static void main(String[] args) { System.out.println(\"hi\"); }",
    "<p>Paragraph with <b>bold</b> and <i>italic</i> text.</p>",
    "<a href=\"https://example.com/docs\">docs</a>",
    "map.put(\"key\", value);",
    "x = [i * 2 for i in range(10)]",
    "body { font-family: Arial, sans-serif; color: #333; }",
    "SELECT COUNT(*) FROM orders -- counts all orders",
    "Run: ./configure && make && make install",
    "fn main() { println!(\"Hello, world!\"); }",
    "import React from 'react';",
    "kubectl get pods -n production",
    "UPDATE settings SET theme = 'dark' WHERE user_id = 42;",
    "The query `status:open label:bug` finds open bugs.",
    "let total = price * quantity + shipping;",
    "<img src=\"/static/logo.png\" alt=\"Logo\" width=\"120\">",
]
urls = ["https://www.example.com/", "https://shop.example.org/products?id=42&ref=home", "https://en.wikipedia.org/wiki/Rust_(programming_language)",
        "https://github.com/rust-lang/rust/issues/12345", "http://example.net/path/to/page.html", "https://cdn.example.com/assets/app.min.js",
        "https://api.example.com/v1/users/123/orders?page=2&per_page=50", "https://maps.google.com/?q=52.5200,13.4050",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://docs.example.io/guide#installation", "https://example.com/index.php?page=about",
        "https://files.example.com/reports/2024-q1.pdf", "mailto:support@example.com", "https://hooks.example.com/services/T000/B000/XXXX",
        "https://example.com/search?q=%22rust%20lang%22", "ftp.example.com", "www.example.co.uk", "https://8.8.8.8/dns-query"]
emails = ["jane.doe@example.com", "o'brien@example.ie", "first.last+tag@sub.example.co.uk", "user_123@example.org", "ümlaut@example.de",
          "support@example.com", "a.b-c@example.io"]
searches = ["\"new york\" pizza", "rust -java", "laptop OR notebook", "price:<100 brand:acme", "site:example.com login", "c++ tutorial",
            "how to use SELECT in SQL", "what does 'or' mean", "best 4k tv 2024", "\"exact phrase\" AND other", "title:\"The Lord of the Rings\"",
            "cats & dogs", "50% off shoes", "C# vs Java", "where is my order?", "1+1", "node.js express", "@mention #hashtag", "a/b testing",
            "drop shipping", "union station chicago", "sleep apnea treatment", "table for two", "ls -la meaning", "cat toys", "script writing course"]
misc = ["2024-03-15", "2024-03-15T10:30:00Z", "15/03/2024", "+1 (555) 123-4567", "+44 20 7946 0958", "+49 30 123456", "€1.299,00", "$1,299.99",
        "19.99", "-42", "3.14159", "1e-5", "true", "false", "null", "N/A", "0", "42", "00042", "ABC-123-XYZ", "SKU_99812",
        "550e8400-e29b-41d4-a716-446655440000", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "10115 Berlin", "SW1A 1AA",
        "221B Baker Street, London NW1 6XE", "1600 Amphitheatre Pkwy, Mountain View, CA 94043", "Flat 3/B, 10 O'Connell Rd",
        "report_final (2).pdf", "IMG_20240315_101530.jpg", "résumé.docx", "data-export-2024.csv", "../", "C:\\Users\\Public\\Documents\\report.docx",
        "/home/user/documents", "en-US", "de-DE,de;q=0.9", "#ff5733", "rgb(255, 87, 51)", "100x200", "1920×1080", "v1.2.3-beta.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "okhttp/4.12.0", "python-requests/2.31.0", "curl/8.5.0", "PostmanRuntime/7.37.0", "Go-http-client/2.0",
        "text/html; charset=utf-8", "application/json", "gzip, deflate, br", "max-age=0", "keep-alive",
        "Bearer-style token? no: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "sha256=3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
        "1; mode=block", "nosniff", "same-origin", "192.0.2.44", "203.0.113.5", "2001:db8::1", "example.com:443", "api.example.com",
        "q=0.8", "a=b", "key=value", "x;y;z", "a|b|c", "foo && bar", "yes/no", "(optional)", "[draft]", "{placeholder}", "Hello {{name}}, your order {{order_id}} shipped!",
        "Dear ${firstName}", "#{count} items", "<3", "->", "=>", ":-)", "^_^", "~/projects", "*.txt", "**bold** and _italic_",
        "- item one\n- item two\n- item three", "# Heading\n\nSome text with a [link](https://example.com).", "> quoted reply\n\nmy answer",
        "| name | qty |\n|------|-----|\n| pen  | 2   |", "1. first\n2. second", "TODO: fix this", "P.S. see you soon",
        "It's 5 o'clock somewhere", "rock'n'roll", "we've, they're, isn't, can't, won't", "L'Oréal", "McDonald's", "Toys\"R\"Us", "AT&T", "Procter & Gamble",
        "H&M", "Barnes & Noble", "Ben & Jerry's", "Marks & Spencer", "Johnson & Johnson", "R&D", "Q&A", "M&Ms", "5' 11\"", "6'2\"", "12\" pizza",
        "the 90's", "rock 'n' roll", "'quoted'", "\"double quoted\"", "it's -- like -- whatever", "1-800-FLOWERS", "O'Hare Airport",
        "lorem ipsum dolor sit amet", "N/A; see notes", "width=100%", "50%-off", "100% cotton", "x=1, y=2", "a < b > c",
        "id asc", "created_at desc", "name,email,phone", "admin", "root", "user", "select", "delete", "update", "union", "script", "alert",
        "system", "exec", "order", "group", "table", "drop", "insert", "where", "from", "like", "and", "or", "not", "null", "sleep", "ping", "cat",
        "ls", "id", "pwd", "echo", "eval", "document", "window", "cookie", "passwd", "etc", "windows", "localhost? no, production",
        "Call me at 5pm; or 6pm if busy", "Buy 2, get 1 free (limit 3 per customer)", "Size: M/L", "Colour: navy/white",
        "Ref: INV-2024/0042", "path/to/file.txt", "docs/README.md", "src/main.rs", "images/2024/03/photo.png", "v2/users",
        "The Matrix (1999)", "Star Wars: Episode IV – A New Hope", "Fast & Furious 7", "Law & Order: SVU", "Who's Afraid of Virginia Woolf?",
        "Don't Stop Me Now", "What's Up?", "Rock'n'Roll High School", "Guns N' Roses", "Ke$ha", "P!nk", "will.i.am", "AC/DC", "Earth, Wind & Fire"]
b64 = [base64.b64encode(hashlib.sha256(str(i).encode()).digest() * 3).decode() for i in range(10)]
b64 += ["iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="]
tokens = ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
          "s%3Aabc123.XyZ%2F9%2Bq", "GA1.2.1234567890.1700000000", "sess_8f14e45fceea167a5a36dedd4bea2543", "en", "dark", "1", "true", "eu-west-1"]

fields_text = ["comment", "description", "bio", "message", "note", "title", "body", "review", "feedback", "subject"]
fields_name = ["name", "first_name", "last_name", "full_name", "author", "contact"]
fields_misc = ["value", "data", "info", "extra", "tag", "label", "ref", "code"]
placements_text = ["json", "form", "multipart", "xml", "query"]

for i, n in enumerate(names):
    add(["json", "query", "form", "xml", "cookie", "header", "multipart"][i % 7], n, random.choice(fields_name))
for i, p in enumerate(prose):
    add(placements_text[i % 5], p, random.choice(fields_text))
    add("json", p.upper() if i % 4 == 0 else p.lower(), random.choice(fields_text))
for i, c in enumerate(code):
    add(["json", "form", "multipart", "json"][i % 4], c, random.choice(["comment", "snippet", "code", "body", "description"]))
for i, u in enumerate(urls):
    add(["json", "query", "form", "header"][i % 4], u, random.choice(["website", "homepage", "link", "url", "redirect_uri", "callback"]))
for i, e in enumerate(emails):
    add(["json", "query", "form", "cookie"][i % 4], e, "email")
for i, s in enumerate(searches):
    add(["query", "json", "query", "form"][i % 4], s, random.choice(["q", "search", "query", "term"]))
for i, m in enumerate(misc):
    pl = ["json", "query", "form", "header", "cookie", "xml", "multipart", "path"][i % 8]
    if pl == "path" and ("/" in m or "\\" in m or len(m) > 60 or "\n" in m):
        pl = "json"
    add(pl, m, random.choice(fields_misc + fields_text))
for i, b in enumerate(b64):
    add(["json", "form", "cookie"][i % 3], b, random.choice(["avatar", "file", "payload", "signature", "token"]))
for i, t in enumerate(tokens):
    add(["cookie", "header", "query"][i % 3], t, random.choice(["session", "_ga", "theme", "lang", "consent", "region"]))

# Whole JSON documents.
first = ["Anna", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Giorgos", "Hana", "Ivan", "Jürgen", "Kofi", "Liam", "Mei", "Nora", "Omar", "Priya"]
last = ["Smith", "O'Brien", "Müller", "García", "Nakamura", "Kowalski", "D'Souza", "Ali", "Novak", "Rossi", "Nguyen", "Johansson"]
cities = ["Berlin", "Dublin", "São Paulo", "Kraków", "Tōkyō", "New York", "Zürich", "Montréal", "Cape Town", "Reykjavík"]
products = ["USB-C cable (2m)", "Men's T-shirt, size L", "Coffee beans — 1kg, dark roast", "4K monitor 27\"", "Kids' bike 16\"", "Notebook A5 / dotted",
            "Wireless mouse & keyboard set", "Tea: Earl Grey (50 bags)", "Phone case for iPhone 15 Pro", "Standing desk 140×70 cm"]
for i in range(90):
    fn, ln = random.choice(first), random.choice(last)
    kind = i % 6
    if kind == 0:
        doc = {"user": {"first_name": fn, "last_name": ln, "email": f"{fn.lower()}.{i}@example.com", "phone": f"+1 555 01{i:02d}",
                        "address": {"street": f"{i+1} Main St.", "city": random.choice(cities), "zip": f"{10000+i*37}"}}, "newsletter": i % 2 == 0}
    elif kind == 1:
        doc = {"order_id": f"ORD-{2024000+i}", "items": [{"sku": f"SKU-{i*7}", "name": random.choice(products), "qty": (i % 3) + 1, "price": round(9.99 + i, 2)}],
               "note": random.choice(prose), "currency": "EUR"}
    elif kind == 2:
        doc = {"title": random.choice(["Bug: login fails", "Feature request: dark mode", "Question about billing", "Docs typo"]),
               "body": random.choice(code) + "\n\n" + random.choice(prose), "labels": ["bug", "p2"], "assignee": None}
    elif kind == 3:
        doc = {"query": random.choice(searches), "filters": {"price": {"min": 10, "max": 200}, "brand": ["acme", "globex"], "in_stock": True},
               "sort": random.choice(["price_asc", "-created_at", "relevance"]), "page": i}
    elif kind == 4:
        doc = {"event": "page_view", "url": random.choice(urls), "referrer": random.choice(urls), "ts": f"2024-03-{(i%28)+1:02d}T12:00:00Z",
               "ua": random.choice([m for m in misc if m.startswith("Mozilla")])}
    else:
        doc = {"review": {"rating": (i % 5) + 1, "text": random.choice(prose), "author": f"{fn} {ln}", "lang": random.choice(["en", "fr", "de", "zh", "ar"])},
               "product": random.choice(products)}
    add("json_raw", json.dumps(doc, ensure_ascii=i % 2 == 0))

# Whole form bodies and query strings.
for i in range(40):
    fn, ln = random.choice(first), random.choice(last)
    from urllib.parse import urlencode
    q = urlencode({"name": f"{fn} {ln}", "email": f"{fn.lower()}@example.com", "message": random.choice(prose), "page": str(i)})
    add("form_raw" if i % 2 else "query_raw", q)

# XML documents.
for i in range(20):
    fn, ln = random.choice(first), random.choice(last)
    from xml.sax.saxutils import escape, quoteattr
    doc = f'<?xml version="1.0" encoding="UTF-8"?><order id={quoteattr(str(1000+i))}><customer>{escape(fn + " " + ln)}</customer><item sku="A-{i}">{escape(random.choice(products))}</item><note>{escape(random.choice(prose))}</note></order>'
    add("xml_raw", doc)

# Values near the shapes of the newer rules (command tools, SQL functions, Java class
# names, PHP-ish names, base64, quotes around "or"), appended after the seeded part so the
# rows above stay stable.
near_misses = [
    ("query", "docker", "tag"),
    ("query", "kubectl", "q"),
    ("json", "ansible-httpget", "agent"),
    ("query", "python3", "language"),
    ("json", "git rebase --onto main feature", "snippet"),
    ("json", "Install it with pip and run the tests", "body"),
    ("json", "at java.lang.Thread.run(Thread.java:748)", "stacktrace"),
    ("json", "java.lang.NullPointerException: name is null", "error"),
    ("json", "Caused by java.io.IOException: stream closed", "error"),
    ("form", "It's 'X' or 'Y', whichever is cheaper", "comment"),
    ("json", "The students' or teachers' lounge", "description"),
    ("query", "sort by price or rating", "q"),
    ("json", "Use array_map in PHP to transform each item", "body"),
    ("json", "Select the best option from the menu, then update your profile.", "body"),
    ("query", "1 is not a prime", "q"),
    ("json", "Q3 revenue: 42 like last year", "note"),
    ("json", "aGVsbG8gd29ybGQsIHRoaXMgaXMgYSB0ZXN0IGZpbGU=", "file"),
    ("json", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "token"),
    ("cookie", "uname", "remember"),
    ("query", "john doe", "uname"),
    ("json", "/var/www/html/index.html", "document_root"),
    ("json", "The time ifconfig took was negligible", "body"),
    ("json", "price__gte", "filter"),
    ("json", "Report: SELECT count(*) FROM orders; shows 42", "body"),
    ("query", "café (crème brûlée) & co", "q"),
    # Shapes of the rules added in round 3 (cmd.exe `if`, PHP variable callees, SQL
    # aliases and JSON operators, infinite loops, base64 cookie names, IMAP commands).
    ("json", "if a==b: return a", "snippet"),
    ("json", "Applies if 20% or more of the order is refunded", "body"),
    ("query", "if x == 5 then show the banner", "q"),
    ("json", "Costs $5 (USD) plus $ 10 (shipping)", "note"),
    ("json", "The totals (listed below) as shown from the quarterly report", "body"),
    ("json", "Shipped (2 boxes) as agreed from Lisbon", "note"),
    ("json", "Loop with while (true) until the queue drains", "body"),
    ("json", "while (running) { poll(); }", "snippet"),
    ("form", "the 'A'-team -- great show", "comment"),
    ("json", "Use the ->> operator to read JSON text in PostgreSQL", "body"),
    ("cookie", "remember", "SessionPrefs"),
    ("json", "1 Select a plan\r\n2 Copy the key\r\n3 Delete the draft", "body"),
    ("json", "Set the timeout (and 5 retries) as usual", "body"),
    ("query", "Shiny Token", "q"),
    ("json", "&& and || are the logical operators in bash", "body"),
    ("json", "process.env.NODE_ENV controls the build; the module exports a function", "body"),
    ("json", "Uploaded session_notes_2024.txt for review", "note"),
    ("query", "shoes and size = 42", "q"),
    ("json", "Use a || b == c to combine the checks", "body"),
]
for pl, v, fld in near_misses:
    add(pl, v, fld)

with open(os.path.join(HERE, "benign.jsonl"), "w") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows))
