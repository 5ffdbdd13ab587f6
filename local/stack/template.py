"""template.yaml read as the local stack needs it: resources by type, with intrinsics resolved locally.

Nothing here knows the project's logical ids: tables, queues, secrets, machines and functions are found by
their CloudFormation/SAM Type, so local cannot drift from what deploys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cfnlint.decode

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "pco-sync-local"
DEFAULT_API_ENDPOINT = "http://127.0.0.1:3000"

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
HTTP_API_TYPES = ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api")


class TemplateError(Exception):
    """The template cannot be read or uses something the local stack cannot resolve."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class StackContext:
    """Where the stack 'is': the pseudo parameters and the local API endpoint."""

    region: str = REGION
    account_id: str = ACCOUNT_ID
    stack_name: str = STACK_NAME
    api_endpoint: str = DEFAULT_API_ENDPOINT


@dataclass
class Physical:
    """What `Ref` and `Fn::GetAtt` of one resource give."""

    ref: str
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TableDef:
    logical_id: str
    name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    global_secondary_indexes: list[dict[str, Any]]
    local_secondary_indexes: list[dict[str, Any]]
    billing_mode: str
    provisioned_throughput: dict[str, int] | None
    ttl_attribute: str | None
    stream_view_type: str | None


@dataclass(frozen=True)
class SecretDef:
    logical_id: str
    name: str
    secret_string: str | None
    generate: bool


@dataclass(frozen=True)
class QueueDef:
    logical_id: str
    name: str
    attributes: dict[str, str]
    redrive_policy: dict[str, Any] | None


@dataclass(frozen=True)
class StateMachineDef:
    logical_id: str
    name: str
    definition: str
    machine_type: str


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int
    memory_size: int

    @property
    def module_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_attribute(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class ScheduleDef:
    """An EventBridge Scheduler schedule: when it fires, and which function it invokes with what."""

    logical_id: str
    expression: str
    timezone: str
    enabled: bool
    target_arn: str
    input: str


@dataclass(frozen=True)
class HttpRoute:
    """One HTTP API route (from a function's HttpApi event): which function, and whether a JWT is required."""

    method: str
    path: str
    function_logical_id: str
    jwt_required: bool

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


_SUB_VAR = re.compile(r"\$\{([^}]+)\}")


class Template:
    """A decoded template bound to parameter values and to the physical ids of (created) resources."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        base_dir: Path,
        *,
        parameters: Mapping[str, str] | None = None,
        context: StackContext | None = None,
    ) -> None:
        self.doc = doc
        self.base_dir = base_dir
        self.context = context or StackContext()
        self._given = dict(parameters or {})
        self.parameters = self._parameter_values(self._given)
        self.physical: dict[str, Physical] = {}
        self.physical = {lid: self._predicted_physical(lid) for lid in self.resources}

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        parameters: Mapping[str, str] | None = None,
        context: StackContext | None = None,
    ) -> Template:
        path = Path(path)
        doc, matches = cfnlint.decode.decode(str(path))
        if doc is None:
            raise TemplateError(f"cannot read {path}: {'; '.join(str(m) for m in matches)}")
        return cls(doc, path.parent, parameters=parameters, context=context)

    def with_parameters(
        self, parameters: Mapping[str, str], *, context: StackContext | None = None
    ) -> Template:
        return Template(
            self.doc,
            self.base_dir,
            parameters={**self._given, **parameters},
            context=context or self.context,
        )

    # ---------------------------------------------------------------- structure
    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.doc.get("Resources") or {})

    def resources_of(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for lid, res in self.resources.items():
            if res.get("Type") in types and self._condition_holds(res.get("Condition")):
                yield lid, res

    def _props(self, res: Mapping[str, Any]) -> dict[str, Any]:
        return dict(res.get("Properties") or {})

    def _parameter_values(self, given: Mapping[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for name, spec in (self.doc.get("Parameters") or {}).items():
            if name in given:
                values[name] = str(given[name])
            elif "Default" in spec:
                default = spec["Default"]
                values[name] = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        return values

    def _predicted_physical(self, lid: str) -> Physical:
        res = self.resources[lid]
        rtype = str(res.get("Type", ""))
        props = self._props(res)
        ctx = self.context
        arn_tail = f"{ctx.region}:{ctx.account_id}"

        def named(prop: str, suffix: str = "") -> str:
            value = props.get(prop)
            if value is None:
                return f"{ctx.stack_name}-{lid}{suffix}"
            return str(self.resolve(value))

        if rtype == "AWS::DynamoDB::Table":
            name = named("TableName")
            arn = f"arn:aws:dynamodb:{arn_tail}:table/{name}"
            return Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
        if rtype == "AWS::SQS::Queue":
            fifo = str(self.resolve(props.get("FifoQueue", False))).lower() == "true"
            name = named("QueueName", ".fifo" if fifo else "")
            url = f"https://sqs.{ctx.region}.amazonaws.com/{ctx.account_id}/{name}"
            return Physical(
                url, {"Arn": f"arn:aws:sqs:{arn_tail}:{name}", "QueueName": name, "QueueUrl": url}
            )
        if rtype == "AWS::SecretsManager::Secret":
            name = named("Name")
            return Physical(f"arn:aws:secretsmanager:{arn_tail}:secret:{name}", {"Name": name})
        if rtype in FUNCTION_TYPES:
            name = named("FunctionName")
            return Physical(name, {"Arn": f"arn:aws:lambda:{arn_tail}:function:{name}"})
        if rtype in STATE_MACHINE_TYPES:
            name = named("Name" if rtype == "AWS::Serverless::StateMachine" else "StateMachineName")
            arn = f"arn:aws:states:{arn_tail}:stateMachine:{name}"
            return Physical(arn, {"Arn": arn, "Name": name})
        if rtype in HTTP_API_TYPES:
            return Physical("local", {"ApiEndpoint": ctx.api_endpoint, "ApiId": "local"})
        if rtype == "AWS::Cognito::UserPool":
            pool_id = f"{ctx.region}_PcoSyncLocal"
            provider = f"cognito-idp.{ctx.region}.amazonaws.com/{pool_id}"
            return Physical(
                pool_id,
                {
                    "Arn": f"arn:aws:cognito-idp:{arn_tail}:userpool/{pool_id}",
                    "ProviderName": provider,
                    "ProviderURL": f"https://{provider}",
                    "UserPoolId": pool_id,
                },
            )
        if rtype == "AWS::Cognito::UserPoolClient":
            return Physical("pcosynclocaladminpage", {"ClientId": "pcosynclocaladminpage"})
        if rtype == "AWS::S3::Bucket":
            name = named("BucketName")
            return Physical(
                name,
                {
                    "Arn": f"arn:aws:s3:::{name}",
                    "DomainName": f"{name}.s3.amazonaws.com",
                    "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
                    "WebsiteURL": ctx.api_endpoint,
                },
            )
        name = f"{ctx.stack_name}-{lid}"
        return Physical(name, {"Arn": f"arn:aws:local:{arn_tail}:{lid}/{name}"})

    def _unknown_physical(self, lid: str) -> Physical:
        # SAM creates implicit resources (<Function>Role, ServerlessHttpApi, ...): give them placeholders.
        name = f"{self.context.stack_name}-{lid}"
        return Physical(
            name, {"Arn": f"arn:aws:local:{self.context.region}:{self.context.account_id}:{name}"}
        )

    def set_physical(self, logical_id: str, ref: str, **attrs: str) -> None:
        """Record what a created resource really is (moto's ARNs), so later resolution uses it."""
        current = self.physical.get(logical_id) or self._unknown_physical(logical_id)
        self.physical[logical_id] = Physical(ref, {**current.attrs, **attrs})

    # ---------------------------------------------------------------- intrinsics
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function resolved; AWS::NoValue drops keys and list items."""
        if isinstance(value, Mapping):
            if len(value) == 1:
                ((key, arg),) = value.items()
                handler = _INTRINSICS.get(str(key))
                if handler is not None:
                    return handler(self, arg)
            out = {}
            for k, v in value.items():
                resolved = self.resolve(v)
                if resolved is not NO_VALUE:
                    out[str(k)] = resolved
            return out
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if isinstance(value, str):
            return str(value)
        return value

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.context.region,
            "AWS::AccountId": self.context.account_id,
            "AWS::StackName": self.context.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.context.region}:{self.context.account_id}:"
            f"stack/{self.context.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in (self.doc.get("Parameters") or {}):
            raise TemplateError(f"parameter {name} has no value and no default")
        if name in self.physical:
            return self.physical[name].ref
        return self._unknown_physical(name).ref

    def _get_att(self, arg: Any) -> str:
        if isinstance(arg, str):
            lid, _, attr = arg.partition(".")
        else:
            lid, attr = str(arg[0]), str(self.resolve(arg[1]))
        phys = self.physical.get(lid) or self._unknown_physical(lid)
        if attr in phys.attrs:
            return phys.attrs[attr]
        return f"{phys.attrs.get('Arn', phys.ref)}#{attr}"

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), {k: self.resolve(v) for k, v in dict(arg[1]).items()}
        else:
            text, variables = str(arg), {}

        def replace(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in variables:
                return str(variables[inner])
            if "." in inner and not inner.startswith("AWS::"):
                return self._get_att(inner)
            return str(self._ref(inner))

        return _SUB_VAR.sub(replace, text)

    def _condition_holds(self, name: Any) -> bool:
        if name is None:
            return True
        conditions = self.doc.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(conditions[name]))

    def _if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self._condition_holds(name) else when_false)

    def _select(self, arg: Any) -> Any:
        index, items = arg
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, arg: Any) -> list[str]:
        sep, text = arg
        return str(self.resolve(text)).split(str(sep))

    def _join(self, arg: Any) -> str:
        sep, items = arg
        return str(sep).join(str(v) for v in self.resolve(items))

    def _equals(self, arg: Any) -> bool:
        a, b = (self.resolve(v) for v in arg)
        return str(a) == str(b)

    def _find_in_map(self, arg: Any) -> Any:
        name, top, second = (self.resolve(v) for v in arg)
        try:
            return self.resolve((self.doc.get("Mappings") or {})[name][top][second])
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second} in Mappings") from None

    # ---------------------------------------------------------------- resources by type
    def tables(self) -> list[TableDef]:
        out = []
        for lid, res in self.resources_of("AWS::DynamoDB::Table"):
            props = self.resolve(self._props(res))
            ttl = props.get("TimeToLiveSpecification") or {}
            stream = props.get("StreamSpecification") or {}
            out.append(
                TableDef(
                    logical_id=lid,
                    name=self.physical[lid].ref,
                    key_schema=list(props.get("KeySchema") or []),
                    attribute_definitions=list(props.get("AttributeDefinitions") or []),
                    global_secondary_indexes=list(props.get("GlobalSecondaryIndexes") or []),
                    local_secondary_indexes=list(props.get("LocalSecondaryIndexes") or []),
                    billing_mode=str(props.get("BillingMode") or "PROVISIONED"),
                    provisioned_throughput=props.get("ProvisionedThroughput"),
                    ttl_attribute=ttl.get("AttributeName") if _truthy(ttl.get("Enabled")) else None,
                    stream_view_type=stream.get("StreamViewType"),
                )
            )
        return out

    def secrets(self) -> list[SecretDef]:
        out = []
        for lid, res in self.resources_of("AWS::SecretsManager::Secret"):
            props = self.resolve(self._props(res))
            secret_string = props.get("SecretString")
            if secret_string is not None and not isinstance(secret_string, str):
                secret_string = json.dumps(secret_string)
            out.append(
                SecretDef(
                    logical_id=lid,
                    name=self.physical[lid].attrs["Name"],
                    secret_string=secret_string,
                    generate="GenerateSecretString" in props,
                )
            )
        return out

    def queues(self) -> list[QueueDef]:
        out = []
        for lid, res in self.resources_of("AWS::SQS::Queue"):
            props = self.resolve(self._props(res))
            attributes = {
                key: _attr_str(props[key])
                for key in (
                    "DelaySeconds",
                    "MaximumMessageSize",
                    "MessageRetentionPeriod",
                    "ReceiveMessageWaitTimeSeconds",
                    "VisibilityTimeout",
                    "FifoQueue",
                    "ContentBasedDeduplication",
                )
                if key in props
            }
            redrive = props.get("RedrivePolicy")
            out.append(
                QueueDef(
                    logical_id=lid,
                    name=self.physical[lid].attrs["QueueName"],
                    attributes=attributes,
                    redrive_policy=dict(redrive) if redrive else None,
                )
            )
        return out

    def state_machines(self) -> list[StateMachineDef]:
        out = []
        for lid, res in self.resources_of(*STATE_MACHINE_TYPES):
            props = self._props(res)
            if res["Type"] == "AWS::Serverless::StateMachine":
                definition = self._sam_definition(lid, props)
                machine_type = str(self.resolve(props.get("Type", "STANDARD")))
            else:
                definition = self._cfn_definition(lid, props)
                machine_type = str(self.resolve(props.get("StateMachineType", "STANDARD")))
            out.append(
                StateMachineDef(
                    logical_id=lid,
                    name=self.physical[lid].attrs["Name"],
                    definition=definition,
                    machine_type=machine_type,
                )
            )
        return out

    def _sam_definition(self, lid: str, props: Mapping[str, Any]) -> str:
        if "Definition" in props:
            text = json.dumps(self.resolve(props["Definition"]))
        elif isinstance(props.get("DefinitionUri"), str):
            text = (self.base_dir / props["DefinitionUri"]).read_text()
        else:
            raise TemplateError(
                f"{lid}: only a local DefinitionUri file or an inline Definition is supported"
            )
        substitutions = self.resolve(props.get("DefinitionSubstitutions") or {})
        return _substitute(text, {k: str(v) for k, v in substitutions.items()})

    def _cfn_definition(self, lid: str, props: Mapping[str, Any]) -> str:
        if "Definition" in props:
            text = json.dumps(self.resolve(props["Definition"]))
        elif "DefinitionString" in props:
            text = str(self.resolve(props["DefinitionString"]))
        else:
            raise TemplateError(f"{lid}: only an inline Definition or DefinitionString is supported")
        substitutions = self.resolve(props.get("DefinitionSubstitutions") or {})
        return _substitute(text, {k: str(v) for k, v in substitutions.items()})

    def schedules(self) -> list[ScheduleDef]:
        out = []
        for lid, res in self.resources_of("AWS::Scheduler::Schedule"):
            props = self.resolve(self._props(res))
            target = props.get("Target") or {}
            out.append(
                ScheduleDef(
                    logical_id=lid,
                    expression=str(props["ScheduleExpression"]),
                    timezone=str(props.get("ScheduleExpressionTimezone") or "UTC"),
                    enabled=str(props.get("State") or "ENABLED") == "ENABLED",
                    target_arn=str(target.get("Arn", "")),
                    input=str(target.get("Input") or "{}"),
                )
            )
        return out

    def _function_globals(self) -> dict[str, Any]:
        return dict((self.doc.get("Globals") or {}).get("Function") or {})

    def functions(self) -> list[FunctionDef]:
        globals_ = self._function_globals()
        out = []
        for lid, res in self.resources_of(*FUNCTION_TYPES):
            props = self._props(res)
            if res["Type"] == "AWS::Serverless::Function":
                merged = {**globals_, **props}
                env = {
                    **((globals_.get("Environment") or {}).get("Variables") or {}),
                    **((props.get("Environment") or {}).get("Variables") or {}),
                }
            else:
                merged = props
                env = (props.get("Environment") or {}).get("Variables") or {}
            code_uri = self.resolve(merged.get("CodeUri") or merged.get("Code"))
            if not isinstance(code_uri, str):
                raise TemplateError(f"{lid}: only a local CodeUri folder is supported, got {code_uri!r}")
            resolved_env = self.resolve(env)
            out.append(
                FunctionDef(
                    logical_id=lid,
                    name=self.physical[lid].ref,
                    code_dir=(self.base_dir / code_uri).resolve(),
                    handler=str(self.resolve(merged.get("Handler", "app.handler"))),
                    environment={str(k): _attr_str(v) for k, v in resolved_env.items()},
                    timeout=int(self.resolve(merged.get("Timeout", 3))),
                    memory_size=int(self.resolve(merged.get("MemorySize", 128))),
                )
            )
        return out

    def jwt_authorizer(self) -> tuple[str, list[str]] | None:
        """(issuer, audiences) of the first JWT authorizer of an HTTP API, resolved locally."""
        for _lid, res in self.resources_of(*HTTP_API_TYPES):
            authorizers = (self._props(res).get("Auth") or {}).get("Authorizers") or {}
            for spec in authorizers.values():
                config = spec.get("JwtConfiguration")
                if config:
                    resolved = self.resolve(config)
                    audience = resolved.get("audience") or []
                    return str(resolved.get("issuer")), [str(a) for a in audience]
        return None

    def http_routes(self) -> list[HttpRoute]:
        """Every HttpApi event of every function, with its effective authorizer (own or the API's default)."""
        default_auth: dict[str, str | None] = {}
        for lid, res in self.resources_of(*HTTP_API_TYPES):
            auth = self._props(res).get("Auth") or {}
            default_auth[lid] = auth.get("DefaultAuthorizer")
        implicit_default = next(iter(default_auth.values()), None) if len(default_auth) == 1 else None
        routes = []
        for lid, res in self.resources_of("AWS::Serverless::Function"):
            for event in (self._props(res).get("Events") or {}).values():
                if event.get("Type") != "HttpApi":
                    continue
                props = event.get("Properties") or {}
                api = props.get("ApiId")
                api_id = api.get("Ref") if isinstance(api, Mapping) else None
                authorizer = (props.get("Auth") or {}).get("Authorizer")
                if authorizer is None:
                    authorizer = default_auth.get(api_id) if api_id else implicit_default
                path = str(props.get("Path", "$default"))
                routes.append(
                    HttpRoute(
                        method=str(props.get("Method", "ANY")).upper(),
                        path=path,
                        function_logical_id=lid,
                        jwt_required=authorizer is not None and authorizer != "NONE",
                    )
                )
        return routes


def _truthy(value: Any) -> bool:
    return str(value).lower() == "true"


def _attr_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _substitute(text: str, substitutions: Mapping[str, str]) -> str:
    # SAM replaces ${Key} for the keys given and leaves everything else alone.
    def replace(match: re.Match[str]) -> str:
        return substitutions.get(match.group(1), match.group(0))

    return _SUB_VAR.sub(replace, text)


def _fn_and(t: Template, arg: Any) -> bool:
    return all(bool(t.resolve(v)) for v in arg)


def _fn_or(t: Template, arg: Any) -> bool:
    return any(bool(t.resolve(v)) for v in arg)


def _fn_not(t: Template, arg: Any) -> bool:
    return not bool(t.resolve(arg[0]))


def _fn_condition(t: Template, arg: Any) -> bool:
    return t._condition_holds(arg)


def _fn_to_json(t: Template, arg: Any) -> str:
    return json.dumps(t.resolve(arg), separators=(",", ":"))


def _fn_base64(t: Template, arg: Any) -> str:
    import base64

    return base64.b64encode(str(t.resolve(arg)).encode()).decode()


def _fn_get_azs(t: Template, _arg: Any) -> list[str]:
    return [f"{t.context.region}{zone}" for zone in "abc"]


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda t, a: t._ref(str(a)),
    "Fn::GetAtt": Template._get_att,
    "Fn::Sub": Template._sub,
    "Fn::Join": Template._join,
    "Fn::If": Template._if,
    "Fn::Select": Template._select,
    "Fn::Split": Template._split,
    "Fn::Equals": Template._equals,
    "Fn::FindInMap": Template._find_in_map,
    "Fn::And": _fn_and,
    "Fn::Or": _fn_or,
    "Fn::Not": _fn_not,
    "Condition": _fn_condition,
    "Fn::ToJsonString": _fn_to_json,
    "Fn::Base64": _fn_base64,
    "Fn::GetAZs": _fn_get_azs,
}
