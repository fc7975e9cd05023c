"""Each function's execution role as SAM expands it, created in the embedded moto, and credentials for it.

The template is translated by SAM's own translator (what ``sam build``/``sam validate`` and CloudFormation's
transform run): policy templates, inline statements, the SQS event source's managed policy, X-Ray for
``Tracing: Active`` and AWSLambdaBasicExecutionRole all come out as the role CloudFormation would create.
Its intrinsics are resolved by the runner's Template, so a statement names the moto resources.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage_local.aws_calls import AwsCall, DeniedCallReporter, ResourceNames, read_calls
from triage_local.template import Template, TemplateError

ADMIN_USER = "triage-local-admin"
# The admin identity is made by the first requests moto serves unauthenticated: exactly these three.
ADMIN_BOOTSTRAP_REQUESTS = 3
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
_LOCAL_URIS = {
    "AWS::Serverless::Function": ("CodeUri", "s3://triage-local/code.zip"),
    "AWS::Serverless::LayerVersion": ("ContentUri", "s3://triage-local/layer.zip"),
    "AWS::Serverless::Application": ("Location", "https://s3.amazonaws.com/triage-local/application.yaml"),
}


@dataclass(frozen=True)
class FunctionRole:
    function: str
    role: str  # the role's logical id in the translated template
    trust_policy: dict[str, Any]
    managed_policy_arns: list[str] = field(default_factory=list)
    inline_policies: dict[str, Any] = field(default_factory=dict)  # PolicyName -> PolicyDocument (intrinsics)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def client_arguments(self) -> dict[str, str]:
        """As boto3.client() keyword arguments."""
        return {k.lower(): v for k, v in self.environment().items()}

    def environment(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def translate(template: Template) -> dict[str, Any]:
    """The CloudFormation template SAM makes of ``template`` (local paths stand in as S3 locations)."""
    import boto3
    from samtranslator.metrics.metrics import Metrics  # type: ignore[import-untyped]
    from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
    from samtranslator.public.exceptions import InvalidDocumentException  # type: ignore[import-untyped]
    from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

    body = copy.deepcopy(template.body)
    for resource in (body.get("Resources") or {}).values():
        uri = _LOCAL_URIS.get(resource.get("Type"))
        if uri and isinstance((resource.get("Properties") or {}).get(uri[0]), str):
            resource["Properties"][uri[0]] = uri[1]
    function_globals = (body.get("Globals") or {}).get("Function") or {}
    if isinstance(function_globals.get("CodeUri"), str):  # a CodeUri every function inherits
        function_globals["CodeUri"] = _LOCAL_URIS["AWS::Serverless::Function"][1]
    metrics = Metrics()  # the translator counts what it sees; nothing is published from here
    translator = Translator(
        managed_policy_map=None, sam_parser=Parser(), plugins=[],
        boto_session=boto3.session.Session(region_name=template.region), metrics=metrics,
    )  # fmt: skip
    try:
        translated: dict[str, Any] = translator.translate(
            sam_template=body, parameter_values=dict(template.parameter_overrides), get_managed_policy_map=dict
        )
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        raise TemplateError(f"{template.path}: SAM cannot translate it: {causes}") from exc
    finally:
        metrics.publish()
    return translated


def function_roles(template: Template, translated: dict[str, Any]) -> dict[str, FunctionRole]:
    """Each function's (whose condition holds) execution role in the translated template."""
    resources = translated.get("Resources") or {}
    roles = {}
    for function in template.resources_of("AWS::Serverless::Function"):
        role_ref = (resources.get(function, {}).get("Properties") or {}).get("Role")
        logical = _role_logical_id(role_ref)
        role = resources.get(logical or "")
        if role is None or role.get("Type") != "AWS::IAM::Role":
            raise TemplateError(
                f"{function}: its Role {json.dumps(role_ref)} is not a role in the template, so the runner "
                "cannot give it its permissions (run with IAM enforcement off)"
            )
        props = role.get("Properties") or {}
        roles[function] = FunctionRole(
            function=function,
            role=str(logical),
            trust_policy=props.get("AssumeRolePolicyDocument") or {},
            managed_policy_arns=list(props.get("ManagedPolicyArns") or []),
            inline_policies={p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies") or []},
        )
    return roles


def _role_logical_id(role_ref: Any) -> str | None:
    if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref:
        target = role_ref["Fn::GetAtt"]
        logical, attribute = target.split(".", 1) if isinstance(target, str) else target
        return str(logical) if attribute == "Arn" else None
    return None


def trusts_lambda(trust_policy: dict[str, Any]) -> bool:
    for statement in _as_list(trust_policy.get("Statement")):
        services = _as_list((statement.get("Principal") or {}).get("Service"))
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") == "Allow" and LAMBDA_PRINCIPAL in services and "sts:AssumeRole" in actions:
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def bootstrap_admin(iam: Any) -> Credentials:
    """The runner's own identity (provisioning, pollers, queue depths): an IAM user allowed everything."""
    iam.create_user(UserName=ADMIN_USER)
    iam.put_user_policy(UserName=ADMIN_USER, PolicyName="administrator", PolicyDocument=json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def grant_roles(template: Template, roles: dict[str, FunctionRole], session: Any, admin_arn: str) -> dict[str, Any]:
    """Create each role with its resolved policies, assume it, and return each function's credentials.

    The runner stands in for the Lambda service, so a role that trusts lambda.amazonaws.com is made to
    trust the runner's identity instead; one that does not trust Lambda is refused, as Lambda would.
    """
    iam, sts = session.client("iam"), session.client("sts")
    credentials = {}
    for function, role in roles.items():
        if not trusts_lambda(role.trust_policy):
            raise TemplateError(f"{function}: role {role.role} does not let {LAMBDA_PRINCIPAL} assume it")
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}],
        }
        arn = iam.create_role(RoleName=role.role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        for name, document in role.inline_policies.items():
            # SAM's policy templates carry no Version (IAM then reads 2008-10-17); moto insists on one.
            resolved = {"Version": "2012-10-17", **template.resolve(document)}
            iam.put_role_policy(RoleName=role.role, PolicyName=name, PolicyDocument=json.dumps(resolved))
        for policy_arn in role.managed_policy_arns:
            iam.attach_role_policy(RoleName=role.role, PolicyArn=template.resolve(policy_arn))
        got = sts.assume_role(RoleArn=arn, RoleSessionName=function)["Credentials"]
        credentials[function] = Credentials(got["AccessKeyId"], got["SecretAccessKey"], got["SessionToken"])
    return credentials


class RoleEnforcement:
    """IAM on the embedded moto: the runner's admin identity, each function's role and credentials.

    Moto serves the first ADMIN_BOOTSTRAP_REQUESTS requests unauthenticated (INITIAL_NO_AUTH_ACTION_COUNT),
    which make the admin user; from then on every request is signed, authenticated and authorised.
    """

    def __init__(self, template: Template, calls_path: Path, log: Callable[[str, str], None]) -> None:
        self.template = template
        self.calls_path = calls_path
        self.roles = function_roles(template, translate(template))
        self.role_functions = {role.role: function for function, role in self.roles.items()}
        self.admin: Credentials | None = None
        self.function_credentials: dict[str, Credentials] = {}
        self._denials = DeniedCallReporter(calls_path, self.role_functions, log)

    @staticmethod
    def server_environment() -> dict[str, str]:
        return {"INITIAL_NO_AUTH_ACTION_COUNT": str(ADMIN_BOOTSTRAP_REQUESTS), "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}

    def bootstrap(self, endpoint_url: str, region: str) -> Credentials:
        """Make the admin identity, then prove that an unknown key is refused (or refuse to run)."""
        import boto3
        from botocore.exceptions import ClientError

        anonymous = boto3.session.Session(
            region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
        )  # fmt: skip
        self.admin = bootstrap_admin(anonymous.client("iam", endpoint_url=endpoint_url))
        try:
            anonymous.client("sqs", endpoint_url=endpoint_url).list_queues()
        except ClientError:
            return self.admin
        raise RuntimeError(f"the AWS endpoint {endpoint_url} served a request with an unknown key: IAM is not enforced")

    def grant(self, session: Any) -> None:
        admin_arn = session.client("sts").get_caller_identity()["Arn"]
        self.function_credentials = grant_roles(self.template, self.roles, session, admin_arn)
        self._denials.start()

    def calls(self) -> list[AwsCall]:
        return read_calls(self.calls_path, self.role_functions, ResourceNames(self.template))

    def stop(self) -> None:
        self._denials.stop()
