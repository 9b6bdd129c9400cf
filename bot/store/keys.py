"""Every Redis key the bot uses is built here.

Keys carry a Redis Cluster hash tag (the part in braces), so that everything one
atomic step touches lives in one slot:
- `{platform:workspace}`: the tenant (a Slack workspace, a LINE channel), for a
  conversation and everything about its person (results, progress, names, the
  event ids seen, the tenant's inbox and outbox);
- `{incident:ID}`, `{cert:SERIAL}`, `{org:ID}`: records shared across tenants
  (an incident handled from another platform, a certificate checked by anyone, an
  organisation spanning Slack and LINE) each have their own slot.
On a single Redis server the tags change nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


def _part(value: str) -> str:
    # Platform ids never contain ':' today; quoting keeps a local user name like "a:b" from
    # colliding with another key.
    return quote(value, safe="")


@dataclass(frozen=True)
class ConversationKey:
    """Who a conversation is with: one per (platform, workspace, user)."""

    platform: str
    workspace: str
    user: str

    def __str__(self) -> str:
        return f"{_part(self.platform)}:{_part(self.workspace)}:{_part(self.user)}"

    @property
    def tenant(self) -> str:
        return tenant_tag(self.platform, self.workspace)


def tenant_tag(platform: str, workspace: str) -> str:
    return "{" + f"{_part(platform)}:{_part(workspace)}" + "}"


@dataclass(frozen=True)
class Keys:
    prefix: str = "bot"

    def _person(self, kind: str, who: ConversationKey) -> str:
        return f"{self.prefix}:{who.tenant}:{kind}:{_part(who.user)}"

    def conversation(self, who: ConversationKey) -> str:
        return self._person("conv", who)

    def results(self, who: ConversationKey) -> str:
        return self._person("results", who)

    def seen_event(self, who: ConversationKey, event_id: str) -> str:
        """An inbound event the engine has handled (in the tenant's slot, with the conversation)."""
        return f"{self.prefix}:{who.tenant}:seen:{_part(event_id)}"

    def outbox(self, tenant: str) -> str:
        """What the tenant's committed steps still have to say (a stream, in the tenant's slot)."""
        return f"{self.prefix}:{tenant}:outbox"

    def inbox(self, tenant: str) -> str:
        """Inbound work acknowledged to the platform and not handled yet (a stream, in the tenant's slot)."""
        return f"{self.prefix}:{tenant}:inbox"

    def seen_inbound_prefix(self, tenant: str) -> str:
        """Inbound delivery ids already stored (the id is appended): a platform retry is stored once."""
        return f"{self.prefix}:{tenant}:seen-in:"

    def tenants(self) -> str:
        """Every tenant that has had an outbox (for the sweeper that resends what a crash left)."""
        return f"{self.prefix}:tenants"

    def workers(self) -> str:
        """The processes reading inboxes, each with when its heartbeat runs out (a sorted set)."""
        return f"{self.prefix}:workers"

    def inbox_news(self) -> str:
        """The pub/sub channel on which a process that stored a job for a tenant it does not read
        tells the one that does (the message is the tenant)."""
        return f"{self.prefix}:inbox-news"

    def lease(self, tenant: str) -> str:
        """Which process looks after a tenant's inbox and outbox right now."""
        return f"{self.prefix}:{tenant}:lease"

    def undelivered(self) -> str:
        """How many outbox entries were given up on (shown by /healthz)."""
        return f"{self.prefix}:metrics:undelivered"

    def display_name(self, who: ConversationKey) -> str:
        return self._person("name", who)

    def slack_installation(self, enterprise_id: str | None, team_id: str | None, user_id: str | None = None) -> str:
        """An installation of the Slack app; without user_id, the workspace's latest one."""
        base = f"{self._slack_app(enterprise_id, team_id)}:installation"
        return f"{base}:user:{_part(user_id)}" if user_id else f"{base}:latest"

    def slack_bot(self, enterprise_id: str | None, team_id: str | None) -> str:
        return f"{self._slack_app(enterprise_id, team_id)}:bot"

    def _slack_app(self, enterprise_id: str | None, team_id: str | None) -> str:
        """One slot per Slack installation target: its installation records are written together."""
        return f"{self.prefix}:" + "{slack-app:" + f"{_part(enterprise_id or '-')}:{_part(team_id or '-')}" + "}"

    def oauth_state(self, state: str) -> str:
        return f"{self.prefix}:oauth-state:{_part(state)}"

    def _org(self, org_id: str) -> str:
        return f"{self.prefix}:" + "{org:" + _part(org_id) + "}"

    def organisation(self, org_id: str) -> str:
        """The organisation's own fields (a hash: name)."""
        return f"{self._org(org_id)}:info"

    def organisation_workspaces(self, org_id: str) -> str:
        return f"{self._org(org_id)}:workspaces"

    def organisation_role(self, org_id: str, role: str) -> str:
        return f"{self._org(org_id)}:role:{_part(role)}"

    def security_policy(self, org_id: str) -> str:
        """The organisation's confirmed 情報セキュリティ基本方針 (JSON), for SECURITY ACTION ★★."""
        return f"{self._org(org_id)}:security-policy"

    def document(self, token: str) -> str:
        """A file served by `bot serve` at an unguessable, expiring URL (a PDF for LINE), in its own slot."""
        return f"{self.prefix}:" + "{doc:" + _part(token) + "}"

    def legacy_organisation(self, org_id: str) -> str:
        """Where versions before 0.2 kept the whole organisation as one JSON string."""
        return f"{self.prefix}:org:{_part(org_id)}"

    def organisation_of(self, platform: str, workspace: str) -> str:
        """Which organisation a Slack workspace or LINE channel belongs to."""
        return f"{self.prefix}:{tenant_tag(platform, workspace)}:org-of"

    def image(self, token: str) -> str:
        return f"{self.prefix}:image:{_part(token)}"

    def lesson_progress(self, who: ConversationKey) -> str:
        return self._person("lessons", who)

    def certificate(self, serial: str) -> str:
        return f"{self.prefix}:" + "{cert:" + _part(serial) + "}"

    def _incident(self, incident_id: str) -> str:
        return f"{self.prefix}:" + "{incident:" + _part(incident_id) + "}"

    def incident(self, incident_id: str) -> str:
        return self._incident(incident_id)

    def incident_timeline(self, incident_id: str) -> str:
        return f"{self._incident(incident_id)}:timeline"

    def incidents_of_workspace(self, platform: str, workspace: str) -> str:
        return f"{self.prefix}:{tenant_tag(platform, workspace)}:incidents"

    def incidents_by(self, who: ConversationKey) -> str:
        return self._person("incidents-by", who)

    # --- who administers a workspace, and the people's data -------------------------------------

    def administrators(self, platform: str, workspace: str) -> str:
        """The people proven to administer a workspace (a set of user ids, in the tenant's slot)."""
        return f"{self.prefix}:{tenant_tag(platform, workspace)}:admins"

    def invite(self, platform: str, workspace: str, digest: str) -> str:
        """A one-time administrator code, by the SHA-256 of the code (never the code itself)."""
        return f"{self.prefix}:{tenant_tag(platform, workspace)}:invite:{_part(digest)}"

    def certificates_of(self, who: ConversationKey) -> str:
        """The serials of the person's certificates (a set), so that deleting their data revokes them."""
        return self._person("certs", who)

    def person_prefix(self, platform: str, workspace: str, kind: str) -> str:
        """The start of every key of one kind about the people of a tenant (results, lessons...)."""
        return f"{self.prefix}:{tenant_tag(platform, workspace)}:{kind}:"

    def platform_role(self, who: ConversationKey) -> str:
        """What the platform says the person is (e.g. a Slack workspace admin), cached for minutes."""
        return self._person("platform-role", who)

    # --- the company's own view (bot/flows/org/company_*.py) --------------------------------------

    def company_checks(self, org_id: str) -> str:
        """The self-checks an administrator answered on the organisation's behalf (a list of JSON
        records, oldest first; per site), kept apart from anyone's personal results."""
        return f"{self._org(org_id)}:company-checks"

    # --- reminders (bot/flows/reminders, bot/core/scheduler.py) -------------------------------------

    def schedule(self) -> str:
        """What is due when (a sorted set of task names by epoch seconds), in a slot of its own."""
        return f"{self.prefix}:" + "{reminders}:due"

    def reminder_sent(self, tenant: str, reminder_id: str) -> str:
        """That a reminder was handed to the tenant's outbox (in the tenant's slot, with the outbox)."""
        return f"{self.prefix}:{tenant}:remind:{_part(reminder_id)}"

    def reminders_off(self, who: ConversationKey) -> str:
        """Set while the person said 「通知オフ」 (no reminders to them)."""
        return self._person("remind-off", who)
