"""MITRE ATT&CK tags of Sigma rules → OCSF ``attacks`` objects.

Sigma tags tactics as ``attack.<tactic-short-name>`` and techniques as
``attack.tNNNN[.NNN]``. Tactic ids follow ATT&CK v19 (``stealth`` = TA0005 and
``defense-impairment`` = TA0112 replaced ``defense-evasion``, which is still
accepted as TA0005). Technique names come from a small table of the techniques
cloud rules use; an unknown technique keeps its id as name.
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
    "T1048": "Exfiltration Over Alternative Protocol",
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
    "T1110": "Brute Force",
    "T1110.001": "Brute Force: Password Guessing",
    "T1110.003": "Brute Force: Password Spraying",
    "T1136": "Create Account",
    "T1136.003": "Create Account: Cloud Account",
    "T1190": "Exploit Public-Facing Application",
    "T1484": "Domain or Tenant Policy Modification",
    "T1484.002": "Domain or Tenant Policy Modification: Trust Modification",
    "T1485": "Data Destruction",
    "T1486": "Data Encrypted for Impact",
    "T1490": "Inhibit System Recovery",
    "T1496": "Resource Hijacking",
    "T1525": "Implant Internal Image",
    "T1526": "Cloud Service Discovery",
    "T1528": "Steal Application Access Token",
    "T1530": "Data from Cloud Storage",
    "T1531": "Account Access Removal",
    "T1537": "Transfer Data to Cloud Account",
    "T1538": "Cloud Service Dashboard",
    "T1546": "Event Triggered Execution",
    "T1548": "Abuse Elevation Control Mechanism",
    "T1548.005": "Abuse Elevation Control Mechanism: Temporary Elevated Cloud Access",
    "T1550": "Use Alternate Authentication Material",
    "T1550.001": "Use Alternate Authentication Material: Application Access Token",
    "T1552": "Unsecured Credentials",
    "T1552.005": "Unsecured Credentials: Cloud Instance Metadata API",
    "T1555": "Credentials from Password Stores",
    "T1555.006": "Credentials from Password Stores: Cloud Secrets Management Stores",
    "T1556": "Modify Authentication Process",
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
    "T1584.001": "Compromise Infrastructure: Domains",
    "T1608.003": "Stage Capabilities: Install Digital Certificate",
    "T1619": "Cloud Storage Object Discovery",
    "T1651": "Cloud Administration Command",
    "T1666": "Modify Cloud Resource Hierarchy",
    "T1685": "Disable or Modify Tools",
    "T1685.002": "Disable or Modify Tools: Disable or Modify Cloud Logs",
    "T1686": "Disable or Modify System Firewall",
    "T1686.001": "Disable or Modify System Firewall: Disable or Modify Cloud Firewall",
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


def attacks(tactics: list[str], techniques: list[str]) -> list[dict[str, Any]]:
    """OCSF attack objects: one per (technique, tactic) pair, or per tactic if no technique."""
    out: list[dict[str, Any]] = []
    tac_objs = [{"uid": TACTICS[t][0], "name": TACTICS[t][1]} for t in tactics]
    if not techniques:
        return [{"tactic": t} for t in tac_objs]
    for tid in techniques:
        tech = {"uid": tid, "name": TECHNIQUES.get(tid, tid)}
        if not tac_objs:
            out.append({"technique": tech})
        for t in tac_objs:
            out.append({"tactic": t, "technique": tech})
    return out
