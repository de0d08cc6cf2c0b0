"""MITRE ATT&CK tags of Sigma rules → OCSF ``attacks`` objects.

Sigma tags tactics as ``attack.<tactic-short-name>`` and techniques as
``attack.tNNNN[.NNN]``. Tactic ids follow ATT&CK v19 (``stealth`` = TA0005 and
``defense-impairment`` = TA0112 replaced ``defense-evasion``, which is still
accepted as TA0005). Technique names and tactics come from a table of the techniques
cloud rules use (Enterprise ATT&CK v18.1); an unknown technique keeps its id as name.
"""

from __future__ import annotations

import re
from typing import Any

TACTICS: dict[str, tuple[str, str]] = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "stealth": ("TA0005", "Stealth"),
    "defense-impairment": ("TA0112", "Defense Impairment"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}

TECHNIQUES: dict[str, str] = {
    "T1003": "OS Credential Dumping",
    "T1005": "Data from Local System",
    "T1020": "Automated Exfiltration",
    "T1021": "Remote Services",
    "T1021.004": "Remote Services: SSH",
    "T1021.007": "Remote Services: Cloud Services",
    "T1037": "Boot or Logon Initialization Scripts",
    "T1040": "Network Sniffing",
    "T1048": "Exfiltration Over Alternative Protocol",
    "T1053": "Scheduled Task/Job",
    "T1059": "Command and Scripting Interpreter",
    "T1059.001": "Command and Scripting Interpreter: PowerShell",
    "T1059.003": "Command and Scripting Interpreter: Windows Command Shell",
    "T1059.004": "Command and Scripting Interpreter: Unix Shell",
    "T1059.009": "Command and Scripting Interpreter: Cloud API",
    "T1069.003": "Permission Groups Discovery: Cloud Groups",
    "T1070": "Indicator Removal",
    "T1078": "Valid Accounts",
    "T1078.001": "Valid Accounts: Default Accounts",
    "T1078.002": "Valid Accounts: Domain Accounts",
    "T1078.004": "Valid Accounts: Cloud Accounts",
    "T1087": "Account Discovery",
    "T1087.004": "Account Discovery: Cloud Account",
    "T1098": "Account Manipulation",
    "T1098.001": "Account Manipulation: Additional Cloud Credentials",
    "T1098.003": "Account Manipulation: Additional Cloud Roles",
    "T1098.004": "Account Manipulation: SSH Authorized Keys",
    "T1098.005": "Account Manipulation: Device Registration",
    "T1110": "Brute Force",
    "T1110.001": "Brute Force: Password Guessing",
    "T1110.003": "Brute Force: Password Spraying",
    "T1133": "External Remote Services",
    "T1136": "Create Account",
    "T1136.003": "Create Account: Cloud Account",
    "T1190": "Exploit Public-Facing Application",
    "T1484": "Domain or Tenant Policy Modification",
    "T1484.002": "Domain or Tenant Policy Modification: Trust Modification",
    "T1485": "Data Destruction",
    "T1486": "Data Encrypted for Impact",
    "T1489": "Service Stop",
    "T1490": "Inhibit System Recovery",
    "T1496": "Resource Hijacking",
    "T1496.001": "Resource Hijacking: Compute Hijacking",
    "T1496.003": "Resource Hijacking: SMS Pumping",
    "T1496.004": "Resource Hijacking: Cloud Service Hijacking",
    "T1525": "Implant Internal Image",
    "T1609": "Container Administration Command",
    "T1610": "Deploy Container",
    "T1526": "Cloud Service Discovery",
    "T1528": "Steal Application Access Token",
    "T1530": "Data from Cloud Storage",
    "T1531": "Account Access Removal",
    "T1535": "Unused/Unsupported Cloud Regions",
    "T1537": "Transfer Data to Cloud Account",
    "T1538": "Cloud Service Dashboard",
    "T1546": "Event Triggered Execution",
    "T1548": "Abuse Elevation Control Mechanism",
    "T1548.005": "Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
    "T1550": "Use Alternate Authentication Material",
    "T1550.001": "Use Alternate Authentication Material: Application Access Token",
    "T1550.004": "Use Alternate Authentication Material: Web Session Cookie",
    "T1539": "Steal Web Session Cookie",
    "T1552": "Unsecured Credentials",
    "T1552.001": "Unsecured Credentials: Credentials In Files",
    "T1552.004": "Unsecured Credentials: Private Keys",
    "T1552.005": "Unsecured Credentials: Cloud Instance Metadata API",
    "T1553": "Subvert Trust Controls",
    "T1555": "Credentials from Password Stores",
    "T1555.006": "Credentials from Password Stores: Cloud Secrets Management Stores",
    "T1556": "Modify Authentication Process",
    "T1557": "Adversary-in-the-Middle",
    "T1556.006": "Modify Authentication Process: Multi-Factor Authentication",
    "T1562": "Impair Defenses",
    "T1562.001": "Impair Defenses: Disable or Modify Tools",
    "T1562.007": "Impair Defenses: Disable or Modify Cloud Firewall",
    "T1562.008": "Impair Defenses: Disable or Modify Cloud Logs",
    "T1565": "Data Manipulation",
    "T1566": "Phishing",
    "T1566.002": "Phishing: Spearphishing Link",
    "T1567": "Exfiltration Over Web Service",
    "T1578": "Modify Cloud Compute Infrastructure",
    "T1578.001": "Modify Cloud Compute Infrastructure: Create Snapshot",
    "T1578.002": "Modify Cloud Compute Infrastructure: Create Cloud Instance",
    "T1578.003": "Modify Cloud Compute Infrastructure: Delete Cloud Instance",
    "T1580": "Cloud Infrastructure Discovery",
    "T1583": "Acquire Infrastructure",
    "T1583.001": "Acquire Infrastructure: Domains",
    "T1584.001": "Compromise Infrastructure: Domains",
    "T1585.002": "Establish Accounts: Email Accounts",
    "T1599": "Network Boundary Bridging",
    "T1608.003": "Stage Capabilities: Install Digital Certificate",
    "T1619": "Cloud Storage Object Discovery",
    "T1621": "Multi-Factor Authentication Request Generation",
    "T1648": "Serverless Execution",
    "T1651": "Cloud Administration Command",
    "T1654": "Log Enumeration",
    "T1657": "Financial Theft",
    "T1666": "Modify Cloud Resource Hierarchy",
    "T1685": "Disable or Modify Tools",
    "T1685.002": "Disable or Modify Tools: Disable or Modify Cloud Logs",
    "T1686": "Disable or Modify System Firewall",
    "T1686.001": "Disable or Modify System Firewall: Disable or Modify Cloud Firewall",
}

#: technique -> the ATT&CK tactics it belongs to (Enterprise ATT&CK v18.1; T1685/T1686 are v19's
#: Defense Impairment techniques). A technique of Defense Evasion also counts under v19's Stealth
#: and Defense Impairment, which replaced it. A test holds every technique of the built-in
#: catalogue to a name here and to a tactic of its rule.
TECHNIQUE_TACTICS: dict[str, tuple[str, ...]] = {
    "T1003": ("credential-access",),
    "T1005": ("collection",),
    "T1020": ("exfiltration",),
    "T1021": ("lateral-movement",),
    "T1021.004": ("lateral-movement",),
    "T1021.007": ("lateral-movement",),
    "T1037": (
        "persistence",
        "privilege-escalation",
    ),
    "T1040": (
        "credential-access",
        "discovery",
    ),
    "T1048": ("exfiltration",),
    "T1053": (
        "execution",
        "persistence",
        "privilege-escalation",
    ),
    "T1059": ("execution",),
    "T1059.001": ("execution",),
    "T1059.003": ("execution",),
    "T1059.004": ("execution",),
    "T1059.009": ("execution",),
    "T1069.003": ("discovery",),
    "T1070": ("defense-evasion",),
    "T1078": (
        "defense-evasion",
        "persistence",
        "privilege-escalation",
        "initial-access",
    ),
    "T1078.001": (
        "defense-evasion",
        "persistence",
        "privilege-escalation",
        "initial-access",
    ),
    "T1078.002": (
        "defense-evasion",
        "persistence",
        "privilege-escalation",
        "initial-access",
    ),
    "T1078.004": (
        "defense-evasion",
        "persistence",
        "privilege-escalation",
        "initial-access",
    ),
    "T1087": ("discovery",),
    "T1087.004": ("discovery",),
    "T1098": (
        "persistence",
        "privilege-escalation",
    ),
    "T1098.001": (
        "persistence",
        "privilege-escalation",
    ),
    "T1098.003": (
        "persistence",
        "privilege-escalation",
    ),
    "T1098.004": (
        "persistence",
        "privilege-escalation",
    ),
    "T1098.005": (
        "persistence",
        "privilege-escalation",
    ),
    "T1110": ("credential-access",),
    "T1110.001": ("credential-access",),
    "T1110.003": ("credential-access",),
    "T1133": (
        "persistence",
        "initial-access",
    ),
    "T1136": ("persistence",),
    "T1136.003": ("persistence",),
    "T1190": ("initial-access",),
    "T1484": (
        "defense-evasion",
        "privilege-escalation",
    ),
    "T1484.002": (
        "defense-evasion",
        "privilege-escalation",
    ),
    "T1485": ("impact",),
    "T1486": ("impact",),
    "T1489": ("impact",),
    "T1490": ("impact",),
    "T1496": ("impact",),
    "T1496.001": ("impact",),
    "T1496.003": ("impact",),
    "T1496.004": ("impact",),
    "T1525": ("persistence",),
    "T1609": ("execution",),
    "T1610": (
        "defense-evasion",
        "execution",
    ),
    "T1526": ("discovery",),
    "T1528": ("credential-access",),
    "T1530": ("collection",),
    "T1531": ("impact",),
    "T1535": ("defense-evasion",),
    "T1537": ("exfiltration",),
    "T1538": ("discovery",),
    "T1546": (
        "privilege-escalation",
        "persistence",
    ),
    "T1548": (
        "privilege-escalation",
        "defense-evasion",
    ),
    "T1548.005": (
        "privilege-escalation",
        "defense-evasion",
    ),
    "T1550": (
        "defense-evasion",
        "lateral-movement",
    ),
    "T1550.001": (
        "defense-evasion",
        "lateral-movement",
    ),
    "T1550.004": (
        "defense-evasion",
        "lateral-movement",
    ),
    "T1539": ("credential-access",),
    "T1552": ("credential-access",),
    "T1552.001": ("credential-access",),
    "T1552.004": ("credential-access",),
    "T1552.005": ("credential-access",),
    "T1553": ("defense-evasion",),
    "T1555": ("credential-access",),
    "T1555.006": ("credential-access",),
    "T1556": (
        "credential-access",
        "defense-evasion",
        "persistence",
    ),
    "T1557": (
        "credential-access",
        "collection",
    ),
    "T1556.006": (
        "credential-access",
        "defense-evasion",
        "persistence",
    ),
    "T1562": ("defense-evasion",),
    "T1562.001": ("defense-evasion",),
    "T1562.007": ("defense-evasion",),
    "T1562.008": ("defense-evasion",),
    "T1565": ("impact",),
    "T1566": ("initial-access",),
    "T1566.002": ("initial-access",),
    "T1567": ("exfiltration",),
    "T1578": ("defense-evasion",),
    "T1578.001": ("defense-evasion",),
    "T1578.002": ("defense-evasion",),
    "T1578.003": ("defense-evasion",),
    "T1580": ("discovery",),
    "T1583": ("resource-development",),
    "T1583.001": ("resource-development",),
    "T1584.001": ("resource-development",),
    "T1585.002": ("resource-development",),
    "T1599": ("defense-evasion",),
    "T1608.003": ("resource-development",),
    "T1619": ("discovery",),
    "T1621": ("credential-access",),
    "T1648": ("execution",),
    "T1651": ("execution",),
    "T1654": ("discovery",),
    "T1657": ("impact",),
    "T1666": ("defense-evasion",),
    "T1685": ("defense-impairment",),
    "T1685.002": ("defense-impairment",),
    "T1686": ("defense-impairment",),
    "T1686.001": ("defense-impairment",),
}

_TECH = re.compile(r"^t(\d{4})(?:\.(\d{3}))?$")


def parse_tags(tags: list[str]) -> tuple[list[str], list[str]]:
    """(tactic short names, technique ids ``T1098.001``) from Sigma tag strings."""
    tactics: list[str] = []
    techniques: list[str] = []
    for raw in tags:
        tag = raw.lower()
        if not tag.startswith("attack."):
            continue
        name = tag.removeprefix("attack.")
        m = _TECH.match(name)
        if m:
            tid = f"T{m.group(1)}" + (f".{m.group(2)}" if m.group(2) else "")
            if tid not in techniques:
                techniques.append(tid)
        elif name.replace("_", "-") in TACTICS and name.replace("_", "-") not in tactics:
            tactics.append(name.replace("_", "-"))
    return tactics, techniques


def tactics_of(tid: str) -> frozenset[str] | None:
    """The tactic short names ``tid`` belongs to (Defense Evasion also as Stealth and Defense
    Impairment); None for a technique this table does not know."""
    known = TECHNIQUE_TACTICS.get(tid)
    if known is None:
        return None
    out = set(known)
    if "defense-evasion" in out:
        out |= {"stealth", "defense-impairment"}
    return frozenset(out)


def pairs(tactics: list[str] | tuple[str, ...], techniques: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """(tactic, technique) pairs of a rule's tags: each technique with the rule's tactics it belongs to.

    A rule tagged ``exfiltration`` and ``defense-evasion`` with T1537 and T1562 yields
    (exfiltration, T1537) and (defense-evasion, T1562), not the cross product. A technique
    none of the rule's tactics fit, or one the table does not know, goes with every tactic of
    the rule; without tactics the tactic is ``""``.
    """
    out: list[tuple[str, str]] = []
    for tid in techniques:
        if not tactics:
            out.append(("", tid))
            continue
        allowed = tactics_of(tid)
        fit = [t for t in tactics if allowed is None or t in allowed] or list(tactics)
        out.extend((t, tid) for t in fit)
    return out


def attacks(tactics: list[str], techniques: list[str]) -> list[dict[str, Any]]:
    """OCSF attack objects: one per :func:`pairs` pair, then one per tactic no technique went with."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for tac, tid in pairs(tactics, techniques):
        tech = {"uid": tid, "name": TECHNIQUES.get(tid, tid)}
        if tac:
            used.add(tac)
            out.append({"tactic": {"uid": TACTICS[tac][0], "name": TACTICS[tac][1]}, "technique": tech})
        else:
            out.append({"technique": tech})
    out += [{"tactic": {"uid": TACTICS[t][0], "name": TACTICS[t][1]}} for t in tactics if t not in used]
    return out
