//! OS command injection: a shell separator (or the start of a command substitution)
//! followed by a command that an attacker runs first, with its typical arguments. Runs on
//! the `cmd` variant, where `c'a't`, `c\at`, `c^at` and `$IFS` are already undone.

use std::sync::LazyLock;

use regex::Regex;

use super::{Category::Cmdi, Detector, Hit, PatternDef, RuleInfo, Severity::*, Subject, p};
use crate::location::Part;
use crate::normalize::Variant::{Cmd, Decoded, Folded, Lower};

/// What starts a new command: separators, pipes, command substitution, a newline.
macro_rules! sep {
    () => {
        r"(^|[;&|`\n\r]|\$\(|\$\{|<\(|>\()\s*(\{\s*)?"
    };
}

/// The separators of `sep!` without the start of the value.
macro_rules! sep_explicit {
    () => {
        r"([;&|`\n\r]|\$\(|\$\{|<\(|>\()\s*(\{\s*)?"
    };
}

/// Unix tools an attacker runs whose names are not English words.
macro_rules! unix_tools {
    () => {
        r"(ansible[\w-]*|apt-get|aria2c|awk|base32|base64|basenc|bash|bsdtar|busybox|bzcat|bzip2|bunzip2|c89|c99|capsh|certutil|chattr|chef(-[\w-]+)?|chgrp|chmod|chown|chroot|clang|cpulimit|crontab|cscli|csh|curl|dash|dmesg|dnf|docker|dpkg|gawk|gcc[\d.-]*|gdb|getfacl|gunzip|gzip|ifconfig|ipconfig|iptables|irb|jjs|journalctl|jrunscript|kubectl|ldd|lftp|losetup|lsblk|lsmod|lsof|ltrace|lua\d*|lwp-\w+|lz4|mawk|mkfifo|mysql|nawk|nc|ncat|netcat|netstat|nmap|nohup|nsenter|nslookup|nvim|openssl|perf|perl\d*|php\d*|pip\d?|pkexec|pkill|pgrep|psql|python[\d.]*|rlwrap|rpm|rsync|ruby|scp|setarch|setfacl|sftp|smbclient|socat|sqlite3|ssh|sshpass|strace|sudo|systemctl|tcpdump|tclsh|telnet|tftp|tmux|uname|unxz|unzstd|useradd|usermod|vim|visudo|wget|whoami|xxd|xz|xzcat|yum|zcat|zsh|zstd|zstdcat|zypper)"
    };
}

/// The separators of `cmdi-104`.
macro_rules! sep104 {
    () => {
        r"([;&|`\n]|\$\()\s*"
    };
}

/// The bare short commands of `cmdi-104`.
macro_rules! cmd104 {
    () => {
        r"(/usr)?(/s?bin/)?(id|ls|pwd|env|set|ps|w|who|dir|ver|ls\s+-\w+|ps\s+-?\w+|sleep\s+\d+|ping\s+(-\w+\s+\d+\s+)*-?[\w.]+|kill\s+-\d|reboot|halt|shutdown(\s+-\w+)?|exit|sh|bash)"
    };
}

/// Pattern rules.
pub const PATTERNS: &[PatternDef] = &[
    // Commands that are unambiguous on their own.
    p(
        "cmdi-101",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            sep!(),
            r"(/usr)?(/s?bin/)?(whoami|uname(\s+-\w+)?|ifconfig|ipconfig|systeminfo|tasklist|netstat(\s+-\w+)?|nslookup\s+\S|hostname\b(\s|$|[;&|`)])|getent\s|printenv|uptime|lsb_release|sysctl\s|crontab\s+-|useradd\s|net\s+(user|localgroup|view|share|use)\b|wmic\s|netsh(\.exe)?\s+(firewall|advfirewall|interface|wlan|winhttp|routing|dump)\b|reg\s+(query|add|delete)\s|certutil(\.exe)?\s|bitsadmin\s|mshta(\.exe)?\s|rundll32|regsvr32|cscript\s|wscript\s|powershell|pwsh\b|iwr\s+\S|iex\s*[(\s]|iwmi\s|invoke-\w+\s|cmd(\.exe)?\s*/[ck]|mkfifo\s+(-\w|[^\s-])|socat\s|telnet\s+\S|nc(at)?(\.exe)?\s+(-\w+\s+)*[\w.]+(\s+\d+|\s+-e)|netcat\s|busybox\s|xterm\s+-display)"
        ),
    ),
    // File readers and listers with a path argument.
    p(
        "cmdi-102",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            sep!(),
            r"(/usr)?(/s?bin/)?(cat|tac|more|less|head|tail|nl|od|xxd|strings|base64|type|dir|ls|ll|find|locate|grep|egrep|awk|sed|file|stat|cp|mv|rm|chmod|chown|touch|tar|zip|unzip|gzip|curl|wget|fetch|lwp-download|tftp|ftp|scp|rsync)\s+(-[\w-]+\s+)*([/~.]|[a-z]:|%\w+%|\$\w|https?:|ftp:|\+x|\w+\.(txt|sh|php|py|pl|log|conf|ini|exe|bat)\b|\*)",
            // `echo` / `printf` start sentences about shells ("echo $SHELL prints your
            // login shell"): at the start of a value their argument must end the value or
            // be followed by a separator or a redirection.
            r"|",
            sep_explicit!(),
            r"(/usr)?(/s?bin/)?(echo|printf)\s+(-[\w-]+\s+)*([/~.]|[a-z]:|%\w+%|\$\w|https?:|ftp:|\+x|\w+\.(txt|sh|php|py|pl|log|conf|ini|exe|bat)\b|\*)",
            r"|^\s*(echo|printf)\s+(-[\w-]+\s+)*(\$\w+|\$\{\w+\}|[/~.][^\s;&|`]*|%\w+%)\s*($|[;&|`<>])"
        ),
    ),
    // Interpreters and shells with an inline program or a reverse connection.
    p(
        "cmdi-103",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            sep!(),
            r"(/usr)?(/s?bin/|/usr/bin/env\s+)?(ba|z|k|c|tc|da)?sh\s+(-\w*[ci]\b|<|-\s|/)|(/usr)?(/s?bin/)?(python[\d.]*|perl|ruby|php|node|lua|java)\s+-\w*[ecr]\b|/dev/(tcp|udp)/"
        ),
    ),
    // Bare short commands (`id`, `ls`, `pwd`, `sleep 5`, `ping -c`) only right after an
    // explicit separator and with nothing or an option after them. A list of identifiers
    // glued by `;` or `|` (a CSV header `name;email;id;status`, `uid|id|ps|created_at`) is
    // no command chain: after an identifier that starts the value, the command must not be
    // followed by another list item; after one inside such a list, it must be followed by
    // something that is no list item and not end the value. `127.0.0.1;id`, `1;id;ls`,
    // `localhost;id`, `x; id` and `a;b;id &` are refused.
    p(
        "cmdi-104",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            r"((^|[^\w-])|[^\w;|-][\w-]+|^\s*\d[\w-]*)",
            sep104!(),
            cmd104!(),
            r"\s*($|[;&|`)#>\n]|\s+[;&|`]|\s*2>)",
            r"|^\s*[a-z_][\w-]*",
            sep104!(),
            cmd104!(),
            r"\s*($|[&`)#>\n]|[;|]\s*($|[^\w\s])|\s+[;&|`]|\s*2>)",
            r"|[;|][a-z_][\w-]*",
            sep104!(),
            cmd104!(),
            r"\s*([&`)#>\n]|[;|]\s*[^\w\s]|\s+[;&|`]|\s*2>)"
        ),
    ),
    // Command substitution holding a command an attacker runs first.
    p(
        "cmdi-105",
        Cmdi,
        Critical,
        Cmd,
        r"\$\(\s*(/usr)?(/s?bin/)?(id|whoami|uname|cat|ls|pwd|wget|curl|nc|ncat|bash|sh|sleep|ping|echo|nslookup|dig|host|hostname|ifconfig|ps|env|printenv|python[\d.]*|perl|php|ruby|rm|touch|chmod|base64|head|tail|find|xargs|printf|expr|which|rev|tr|cut)\b",
    ),
    // The same inside backticks; markdown code spans look alike, so this alone does not
    // block.
    p(
        "cmdi-109",
        Cmdi,
        Error,
        Cmd,
        r"(^|[^`])`\s*(/usr)?(/s?bin/)?(id|whoami|uname|cat|ls|pwd|wget|curl|nc|ncat|bash|sh|sleep|ping|nslookup|dig|hostname|ifconfig|ps|env|printenv|python[\d.]*|perl|php|ruby|rm|base64|expr|which)\b[^`\n]{0,80}`",
    ),
    // Redirection to or from sensitive places, and output to a web root.
    p(
        "cmdi-106",
        Cmdi,
        Critical,
        Cmd,
        r"[<>]\s*&?\s*/(etc|tmp|dev|var/www|proc)/|\d?>\s*&\s*\d|\|\s*(ba)?sh\b|\|\s*(nc|ncat|netcat)\s",
    ),
    // Windows environment variables and PowerShell idioms.
    p(
        "cmdi-107",
        Cmdi,
        Error,
        Cmd,
        r"%(comspec|systemroot|windir|userprofile|programfiles|temp|appdata)%|\b(invoke-(expression|webrequest|restmethod|command)|iex\s*\(|new-object\s+(system\.)?net\.webclient|downloadstring\s*\(|start-process|get-(content|childitem|process)\s|-encodedcommand|frombase64string)",
    ),
    // A separator, an optional launcher (`time`, `nohup`, `sudo` ...), then a command whose
    // name is not an English word (so prose like `a; more info` does not match). Only
    // explicit separators count: a value *starting* with `git commit` or a markdown code
    // span is documentation, not an injection.
    p(
        "cmdi-110",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            r"([;&|]|\$\()\s*(\{\s*)?",
            r"((time|nohup|strace|sudo|env|nice|timeout\s+\d+|xargs|exec)\s+)?(/usr)?(/s?bin/)?(ansible[\w-]*|apt-get|apt|aria2c|ash|awk|base32|base64|basenc|bzip2|bunzip2|busybox|cpulimit|chattr|chef-[\w-]+|chgrp|chmod|chown|chroot|cscli|csh|curl|dash|dmesg|dnf|docker|dpkg|easy_install|ethtool|exiftool|fdisk|flock|ftp|gawk|gcc|gdb|getfacl|gimp|git|gunzip|gzip|iptables|journalctl|jq|kubectl|ldd|lftp|losetup|lsblk|lsmod|lsof|ltrace|lua|lwp-\w+|mawk|mkfifo|mkfs\S*|modprobe|mysql|nawk|ncat|netcat|netstat|nmap|nohup|nsenter|nslookup|openssl|perl\d*|php\d*|pip\d?|pkexec|pkill|pgrep|psql|python[\d.]*|rmt[\w-]*|rpm|rsync|ruby|scp|screen|setarch|setfacl|sftp|smbclient|socat|sqlite3|ssh|sshpass|strace|sudo|systemctl|tcpdump|tclsh|telnet|tftp|tmux|uname|useradd|usermod|visudo|wget|whoami|xargs|xxd|yum|zip|zsh|zypper)(\s|$|[;&|`<>)])"
        ),
    ),
    // cmd.exe loops and conditionals: `for /f "delims=" %i in (...) do ...`.
    p(
        "cmdi-111",
        Cmdi,
        Critical,
        Cmd,
        r"\bfor\s+(/[a-z]\s+)*([^%\n]{0,40}\s+)?%%?~?\S{1,20}\s+in\s*\(.{0,200}\)\s*do\b|\bif\s+(not\s+)?(exist|defined|errorlevel)\s+\S+\s+\S|\bif\s+(not\s+)?cmdextversion\s+\d+\s+\S",
    ),
    // cmd.exe comparisons: `if /i a==b cmd`, `if "%1"=="" goto x`, `if %a% gtr %b% echo`,
    // `if not [%1]==[] (`. The operands carry `%var%` / `!var!`, or a cmd comparison
    // keyword, or `a==b` glued and followed by a command (`if a==b: x` in Python has a
    // colon, `if (a == b)` in C-like code spaces its operator).
    p(
        "cmdi-116",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[;&|(]\s*)@?if\s*(/i\s+\S|(/i\s*)?\s(not\s+)?(\S*(%|![\w~]+!)\S*\s*(==|\s(equ|neq|lss|leq|gtr|geq)\s)|\S+\s+(equ|neq|lss|leq|gtr|geq)\s+\S|[^\s=:;]+={2,3}[^\s=:;]+\s+[a-z@(]))",
    ),
    // A value that starts with (or a separator followed by) a tool whose name is not an
    // English word, given an option, a path or a variable: `ansible-inventory --list`,
    // `zstdcat /var/log/x`, `time strace -p 1`. A bare tool name (`?tag=docker`) passes,
    // and so does a subcommand before the option (`kubectl get pods -n prod` is a benign
    // corpus row: documentation and CI fields carry such command lines).
    p(
        "cmdi-112",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            r"(^|[;&|`\n]|\$\()\s*((time|nohup|strace|sudo|nice|timeout\s+\d+|xargs|watch|stdbuf|setsid|ionice|taskset|cpulimit(\s+-\w+\s+\d+)*|flock(\s+-\w+)*\s+\S+)\s+)?(/usr)?(/s?bin/)?",
            unix_tools!(),
            r"\s+(-{1,2}[a-z]\w*|/[\w.]|~/|\$\{?\w|\.\.?/|https?:|\w+\.(sh|py|pl|rb|php|yml|yaml|gz|xz|zst|bz2|tar|conf)\b)"
        ),
    ),
    // A launcher or separator then a tool, or a tool right after a separator with nothing
    // after it: `;perf`, `time ifconfig`, `|vi (x`. After a backquote the tool must not be
    // closed by the next one: a markdown code span naming a tool ("build `zstd` with
    // `make`") is prose; the commands that matter alone in backquotes (`` `id` ``,
    // `` `whoami` ``) are cmdi-101 / cmdi-109.
    p(
        "cmdi-113",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            r"(([;&|\n]|\$\()\s*|^\s*(time|nohup|strace|sudo|nice|xargs|watch|stdbuf|setsid|flock(\s+-\w+)*\s+\S+)\s+)(/usr)?(/s?bin/)?",
            unix_tools!(),
            r"(\s*$|\s*[;&|`<>)(]|\s+\()|`\s*(/usr)?(/s?bin/)?",
            unix_tools!(),
            r"(\s*$|\s*[;&|<>)(]|\s+\()"
        ),
    ),
    // Shell-only syntax: a here-string (`cat<<<x`), a function definition invoked in its
    // own body (fork bombs), a Shellshock function prefix, `alias x=cmd`, sqlite3 CLI
    // dot-commands after a separator.
    p(
        "cmdi-114",
        Cmdi,
        Critical,
        Cmd,
        r"\w\s*<<<\s*\S|\(\s*\)\s*\{[^}]{0,60}\|[^}]{0,60}&\s*;?\s*\}|^\s*\(\s*\)\s*\{|(^|[;&|\n])\s*alias\s+(-p\s+)?[\w.-]+=|([;\n]|;n|\\n)\s*\.(shell|system|sh|import|output|databases|tables|dump|load|read)\b",
    ),
    // Glob-obfuscated absolute paths: `/???/c?t`, `/et*/pa??wd`, `/bin/ca? /et*/passwd`,
    // (round 5) `/usr/bin/who*mi` (a glob glued to letters: `/usr/lib/*` passes).
    p(
        "cmdi-115",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[\s;&|=`(])/[a-z0-9?*]*[?*][a-z0-9?*]*/[a-z0-9?*.]*([?*\s]|$)|(^|[\s;&|=`(])/[a-z0-9]{2,5}/[a-z0-9]*[?*][a-z0-9?*]*(\s+/|\s*$)|(^|[\s;&|=`(])/([a-z0-9]{2,5}/){2}([a-z0-9]+[?*]|[?*]+[a-z0-9])[a-z0-9?*]*(\s+/|\s*$)",
    ),
    // A shell given an inline program, at the start, after a separator or a launcher
    // (`time sh -c id`, `nohup bash -c '...'`, `(sh)0>/dev/tcp`): `sh -c` is no prose.
    p(
        "cmdi-117",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[\s;&|(`])(/usr)?(/s?bin/)?(ba|da|z|k|c|tc|a|fi)?sh\s+(-[a-z]+\s+)*-[a-z]*c\s+\S|(^|[;&|])\s*\(\s*(ba|da|z)?sh\s*\)\s*\d?[<>]",
    ),
    // IMAP / SMTP command injection: a CRLF, a tag and an upper-case protocol command
    // (`\r\nA1 SEARCH ...`, `\r\na001 EXAMINE INBOX`), and an SMTP envelope command
    // with an address after any line break (`\nRCPT TO: x@evil.example`). Runs on
    // `decoded` (case kept).
    p(
        "cmdi-118",
        Cmdi,
        Critical,
        Decoded,
        r"\r\n\s*\w{1,8} (EXAMINE|SELECT|COPY|LIST|LSUB|STORE|SEARCH|FETCH|LOGIN|LOGOUT|CAPABILITY|APPEND|CREATE|DELETE|RENAME|SUBSCRIBE|EXPUNGE|UID|STATUS|AUTHENTICATE|STARTTLS|NOOP|IDLE)( |\r?$)|\r\n(MAIL FROM|RCPT TO|DATA|HELO|EHLO|VRFY|EXPN|QUIT)\b|\r?\n\s*(?i:mail\s+from|rcpt\s+to)\s*:\s*<?[^\s@<>]+@",
    ),
    // A value that starts with a command separator, then a command with up to two words
    // and an option, path or variable (`;date -f x`, `&& id -a`, `;ex x +wq`): text does
    // not start with `;`, `&&` or `||` (a lone `|` starts a markdown table row).
    p(
        "cmdi-119",
        Cmdi,
        Critical,
        Cmd,
        r"^\s*(;|&&|\|\|)\s*\$?[a-z][\w.-]{0,30}(\s+[\w.@-]+){0,2}\s+(-{1,2}[a-z:]|\.{0,2}/|~/|\+\w|\$\{?\w)",
    ),
    // Expect-style wrappers that run commands.
    p("cmdi-108", Cmdi, Critical, Cmd, r"\bexpect://\w"),
    // Round 4. Shell expansions that only a shell reads: process substitution `<(cmd x)`
    // / `>(tee y)`, arithmetic `$((..))`, parameter-expansion operators `${x#..}`,
    // `${PATH%..}`, `${x:0:1}`, `${x:-y}`, and brace expansion with an empty first element
    // (`{,cat,/etc/passwd}`, `{/?s?/c?t,}`); round 5: a brace list whose first element is
    // a command word and whose second is a path or variable (`{cat,/etc/passwd}`,
    // `;{ls,~/}`) in command position (`*.{js,ts}` and `{a,b}` pass).
    p(
        "cmdi-120",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[\s;&|=`(])[<>]\(\s*[a-z_/][\w./-]*\s+[^()]*(/|\s-)[^()]*\)|\$\(\(|\$\{\s*[a-z_]\w*\s*(#|%|:[-=?+]|:\d)|\{,[^{}\s]{0,80},[^{}\s]*\}|\{/[^{}\s]*,[^{}\s]*\}|\{[\w$\\/.]+,-{1,2}[a-z]+[,}]|(^|[\s;&|`(=])\{[a-z][\w.-]{0,30}\s?,(/|~/|\$\{?[a-z_])[^{}\s]*\}",
    ),
    // Bracket globs inside a system path segment: `/etc/pas[s]wd`, `/bi[n]/bash`,
    // `/usr/[a-z]in/bash`, `/etc/[!abc]asswd`. A route placeholder (`/blog/[slug]`) has no
    // letters glued to its brackets; an index (`items[0]`) holds digits.
    p(
        "cmdi-121",
        Cmdi,
        Critical,
        Folded,
        r"(^|[\s;&|=`('])/([\w.-]*/)*([a-z]+\[[!^]?[a-z/](-[a-z])?[a-z/]{0,4}\][a-z]*|\[[!^]?[a-z/](-[a-z])?[a-z/]{0,4}\][a-z]+)",
    ),
    // Windows administration tools with a switch or redirection, at the start or after a
    // separator: `regedit /E`, `bcdboot /r`, `vssadmin delete`, `schtasks /create`.
    // A switch is a short word after `/`, not a path (`cipher/sha256.c: Add X9.62 OID.`).
    p(
        "cmdi-122",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[;&|]\s*)(regedit|reg(\.exe)?\s+(add|delete|query|export|import|save)|bcdboot|bcdedit|wmic|vssadmin|schtasks|icacls|cacls|takeown|bitsadmin|wevtutil|taskkill|diskpart|cipher|attrib|netsh|timeout|sc\s+(create|config|start|stop|delete|query))(\.exe)?(\s*/[a-z?][\w?]{0,15}([^\w./]|$)|\s*<|\s+(delete|shadows|process|call|get|add|advfirewall|interface))",
    ),
    // Process launchers that are no words, at the start of a value or after a separator,
    // running a command (`nohup who`, `strace -f id`, `time curl host`, `ti''me who`
    // once unquoted). `time` counts only in front of a known command.
    p(
        "cmdi-123",
        Cmdi,
        Critical,
        Cmd,
        r"(^|[;&|`\n]|\$\()\s*((nohup|strace|ltrace|setsid|stdbuf|ionice)\s+(-\S+\s+)*[a-z/]|time\s+(-p\s+)?(who|whoami|id|curl|wget|nc|cat|ls|bash|sh|ping|uname|env|sleep|python[\d.]*|perl)(\s*$|\s+-\w|\s+/|\s+[\w-]+\.[a-z]{2,}\b))",
    ),
    // Evasion inside one command word: an empty special parameter (`cu$@rl`, `c$*at`),
    // empty backquotes (`ping`` 127.0.0.1`), runs of empty double quotes
    // (`""p""y""t""h""o""n`) or (round 5) an empty substitution glued to a word
    // (`ping$() 127.0.0.1`, `pi$()ng`, `pi<()ng`; `Vec<()>` in Rust ends with `>`). A quoted
    // quote (`O''Brien`, CSV `""x""`) is not one. Empty backquotes before a space count
    // only when they are the first backquotes of the value: the closing ``` `` ``` of an
    // reStructuredText literal (``` ``--enable-debug`` switch ```) follows an opening one.
    p(
        "cmdi-124",
        Cmdi,
        Critical,
        Lower,
        r#"[a-z]\$[@*][a-z]|[a-z]``[a-z]|^[^`]*[a-z]``\s|([a-z]""){3,}|[a-z]\$\(\s*\)(\s|[a-z])|[a-z][<>]\(\s*\)[a-z]"#,
    ),
    // A Unix tool glued to a separator (`;ssh-copy-id user@host`, `|nc -e`, `&&pip install
    // x`, `$(curl host)`) with an argument, or a non-word tool ending the value
    // (`;lastlog`, `&whoami`). Prose leaves a space after `;` and `|`; a markdown table
    // cell (`| cat | dog |`) has no argument after the tool. Round 5: also after a
    // backquote (``;`echo id` ``) and after an empty variable (`;$a cat x`).
    p(
        "cmdi-125",
        Cmdi,
        Critical,
        Cmd,
        r"(;|\||&|&&\s*|\|\|\s*|\$\(\s*|[;&|]\s*`\s*)(\$[a-z_]\w*\s+)?\\?(cat|ls|id|wget|curl|nc|ncat|netcat|bash|sh|zsh|ksh|python[\d.]*|perl|ruby|php|chmod|chown|rm|cp|mv|uname|whoami|ping|nslookup|dig|telnet|ssh|ssh-copy-id|ssh-keygen|scp|rsync|tftp|sudo|su|kill|pkill|killall|ps|top|netstat|ifconfig|crontab|base64|xxd|awk|gawk|sed|grep|find|tar|gzip|unzip|head|tail|touch|mkdir|echo|printf|env|pip[\d.]*|pipx|npm|apt|apt-get|aptitude|yum|dnf|apk|systemctl|service|useradd|usermod|passwd|socat|nmap|docker|kubectl|ansible[\w-]*|cscli|chef-[\w-]+|openssl)\s+[\w./@~$:'-]|(;|\||&|&&\s*|\|\|\s*)\\?(whoami|uname|ifconfig|netstat|lastlog|aptitude|visudo|ssh-copy-id|wget|curl|bash|passwd|shutdown|reboot)\s*$",
    ),
    // Round 5. A variable run as the command right after an assignment: `x=adduse[r];$x
    // pizza`, `a=/etc&&c=cat&&$c $a`, `c1=c;c2=a;$c1$c2`. The command word is one or more
    // variables followed by an argument or the end; an assignment (`$b = 2`, `$Path=/`),
    // a method call (`$b->c`) or concatenation (`$b .= x`) after it is code, not this.
    p(
        "cmdi-126",
        Cmdi,
        Critical,
        Lower,
        r#"(^|[\s;&|])[a-z_]\w*=[^\s;&|]*(;|&&|\|\||\|)\s*(\$\{?[a-z_]\w*\}?)+(\s+(-{1,2}[a-z]|[\w$/~"'])|\s*$)"#,
    ),
    // cmd.exe `if` comparing two quoted or bracketed operands and running a command:
    // `if [%1]==[] goto x`, `if "A A" == "A A" echo same`. Bash writes `[ "$a" == x ]`
    // (a space inside the bracket), C-like code wraps the comparison in parentheses,
    // Python ends it with a colon.
    p(
        "cmdi-127",
        Cmdi,
        Critical,
        Folded,
        r#"(^|[;&|(]\s*)@?if\s+(/i\s+)?(not\s+)?(\[[^\]\s]*\]|"[^"\n]{0,40}")\s*==\s*(\[[^\]\s]*\]|"[^"\n]{0,40}")\s+[a-z@(]"#,
    ),
    // An editor started to escape to a shell: `vim -c ':!id'`, `;vi x +silent\ !whoami`,
    // `ex -c:!pwd` (GTFOBins). Needs the editor after a separator or at the start, and an
    // `+cmd` / `-c` argument with a `!` command inside it, or (a form that sent `+` as a
    // space) a `!` before a command an attacker runs first (`;vim x silent !whoami`; not
    // for a bare `vi` or `view`, which are words).
    p(
        "cmdi-128",
        Cmdi,
        Critical,
        Cmd,
        concat!(
            r"(^|[;&|`\n]|\$\()\s*(vi|vim|nvim|ex|view|rvim|rview|gvim|vimdiff)\s+([^\s;&|]+\s+){0,3}(\+|-c\s*)[^!\n;&|]{0,20}!\s*[a-z/]",
            r"|(^|[;&|`\n]|\$\()\s*(vim|nvim|ex|rvim|rview|gvim|vimdiff)\s+([^\s;&|]+\s+){0,4}:?!\s*(/usr)?(/s?bin/)?(whoami|id|pwd|uname|sh|bash|zsh|dash|ls|cat|nc|ncat|curl|wget|python[\d.]*|perl|php|ruby|env|ps|chmod|rm)\b"
        ),
    ),
    // Server-side include directives (`<!--#exec cmd="id"-->`, `<!--#include virtual=`):
    // an HTML comment never starts with `#` and one of these words.
    p(
        "cmdi-129",
        Cmdi,
        Critical,
        Lower,
        r"<!--\s*#\s*(exec|include|echo|config|set|printenv|fsize|flastmod|if|elif)\s+[a-z]+\s*=|<!--\s*#\s*printenv\s*-->",
    ),
    // Edge Side Includes (`<esi:include src=…>`, `<esi:vars>`): a cache that processes ESI
    // fetches or evaluates what the tag says once the value is echoed into a page. No
    // request value carries ESI markup legitimately.
    p(
        "cmdi-133",
        Cmdi,
        Critical,
        Folded,
        r"<\s*/?\s*esi\s*:\s*(include|inline|vars|eval|debug|choose|when|otherwise|try|attempt|except|remove|comment|assign|text)\b",
    ),
    // The login shell named through its variable and given `-c` (`$SHELL -c "id"`,
    // `${SHELL} -c …`): the `cmd` variant drops `${…}` as an unset variable, so this looks
    // at the folded text.
    p(
        "cmdi-134",
        Cmdi,
        Critical,
        Folded,
        r#"\$(\{\s*)?shell\b\s*\}?\s+(-[a-z]+\s+)*-[a-z]*c\s+["'`]?\S"#,
    ),
    // Shell expansions that build a command or path out of other variables, before the
    // `cmd` variant folds them: a substring of a variable (`${PATH:0:1}etc`, `${HOME:0:1}`),
    // an ANSI-C string assigned and run (`X=$'uname\x20-a'&&$X`), and tilde expansions of
    // the directory stack (`~+/flag`, `~-/x`), history expansion re-running earlier
    // commands (`!-1!-2`, `;!-3`). Templates write `${name}` without offsets.
    p(
        "cmdi-130",
        Cmdi,
        Critical,
        Lower,
        r"\$\{\s*[a-z_]\w*\s*:\s*\d+\s*(:\s*-?\d+\s*)?\}|[a-z_]\w*=\$'[^'\n]{1,80}'\s*(;|&&|\|\|?)\s*\$\{?[a-z_]|(^|[\s;&|=`(])~[+-]\d*/|(^|[\s;&|`])!-\d+(!-\d+|\s*$|\s*[;&|])",
    ),
    // Round 6. Windows `set /a` arithmetic (a blind cmd.exe probe) after a command
    // separator: `& set /a 1+1`, `| set /a 7*7`.
    p(
        "cmdi-131",
        Cmdi,
        Critical,
        Folded,
        r"[&|;]\s*set\s+/a\s+[\d(]",
    ),
];

/// `cmdi-132`: the whole `User-Agent` or `Referer` is a command line.
const AGENT_COMMAND: RuleInfo = RuleInfo {
    id: "cmdi-132",
    category: Cmdi,
    severity: Critical,
};

/// A command line: an optional `name=` (a query-shaped header value), then a tool whose
/// name is no English word followed by an argument, or a shell builtin or short command
/// (`set`, `env`, `source`, `cat` — words too) followed by an option, a path or a file
/// name. A client names itself `product/version
/// (comments)` (`curl/8.5.0`, `python-requests/2.31`, `kubectl/v1.29 (linux/amd64)`) and a
/// `Referer` is a URL, so neither ever starts with a tool followed by a space and an
/// argument; a bare tool name (`Ruby`, `ansible-httpget` are real agents) is not enough.
static AGENT_COMMAND_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^\s*([a-z_]\w*=)?\s*(/usr)?(/s?bin/)?((",
        unix_tools!(),
        r"|pipx)\s+[^\s(/;]|(set|env|export|unset|alias|eval|exec|source|sh|id|ls|cat|echo|printf|sleep|ping|kill|rm|cp|mv|chmod|shutdown|reboot|rc|cd)\s+(-{1,2}[a-z]|[/~.$]|\w+\.\w+))"
    ))
    .ok()
});

/// Finds command lines sent as the `User-Agent` or `Referer` (CRS 932237 / 932239): a
/// header no form field can explain, so a command at its start is an injection probe
/// aimed at log processors and CGI scripts that pass it to a shell.
#[derive(Debug, Default, Clone, Copy)]
pub struct AgentCommandDetector;

impl Detector for AgentCommandDetector {
    fn rules(&self) -> &'static [RuleInfo] {
        &[AGENT_COMMAND]
    }

    fn detect(&self, subject: &Subject<'_>, hits: &mut Vec<Hit>) {
        if subject.location.part != Part::Header
            || !matches!(subject.location.name.as_str(), "user-agent" | "referer")
        {
            return;
        }
        let Some(re) = AGENT_COMMAND_RE.as_ref() else {
            return;
        };
        if let Some(m) = re.find(&subject.norm.cmd) {
            hits.push(Hit {
                rule: AGENT_COMMAND,
                variant: Cmd,
                span: (m.start(), m.end()),
            });
        }
    }
}
