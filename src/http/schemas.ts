// Shared request/response schemas. They validate input (400 on anything else) and
// generate the OpenAPI document.
import { Type, type TSchema } from '@sinclair/typebox';
import { MAX_AMOUNT_MINOR } from '../domain/money.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../services/pagination.js';

export const AmountMinor = (description = 'Amount in minor units of the currency (1500 = 15.00 USD; JPY has none).') =>
  Type.Integer({ minimum: 0, maximum: MAX_AMOUNT_MINOR, description });
export const PositiveAmountMinor = (description = 'Amount in minor units, at least 1.') =>
  Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_MINOR, description });
export const SignedAmountMinor = Type.Integer({
  minimum: -MAX_AMOUNT_MINOR,
  maximum: MAX_AMOUNT_MINOR,
  description: 'Signed amount in minor units; negative removes credit.',
});
export const Currency = Type.String({ format: 'iso4217', description: 'ISO 4217 code, upper case (USD, EUR, JPY).' });
export const Text = (max = 500) => Type.String({ minLength: 1, maxLength: max });
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Id = (prefix: string) => Type.String({ pattern: `^${prefix}_[0-9A-Za-z]{1,64}$`, description: `Id starting with ${prefix}_` });

export const IdParams = (prefix: string) => Type.Object({ id: Id(prefix) }, { additionalProperties: false });

export const PageQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT }),
    starting_after: Type.Optional(Type.String({ maxLength: 100, description: 'Id of the last item of the previous page.' })),
  },
  { additionalProperties: false },
);

export const ErrorBody = Type.Object({
  error: Type.Object(
    {
      type: Type.String(),
      code: Type.String(),
      message: Type.String(),
      param: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  ),
});

export const ListOf = (item: TSchema) => Type.Object({ data: Type.Array(item), has_more: Type.Boolean() });

export const Balances = Type.Record(Type.String(), Type.Integer(), { description: 'Balance per currency, minor units.' });

export const Customer = Type.Object({
  id: Type.String(),
  object: Type.Literal('customer'),
  email: Type.String(),
  name: Type.String(),
  balances: Balances,
  createdAt: Type.String(),
});

export const Provider = Type.Object({
  id: Type.String(),
  object: Type.Literal('provider'),
  email: Type.String(),
  name: Type.String(),
  payableBalances: Balances,
  createdAt: Type.String(),
});

const Nullable = (s: TSchema) => Type.Union([s, Type.Null()]);

export const Transaction = Type.Object({
  id: Type.String(),
  object: Type.Literal('transaction'),
  type: Type.String(),
  amount: Type.Integer({ description: "Signed amount on the customer's account credit." }),
  currency: Type.String(),
  customerId: Nullable(Type.String()),
  providerId: Nullable(Type.String()),
  orderId: Nullable(Type.String()),
  causeType: Type.String(),
  causeId: Type.String(),
  relatedTransactionId: Nullable(Type.String()),
  reverses: Nullable(Type.String()),
  reversedBy: Nullable(Type.String()),
  memo: Nullable(Type.String()),
  actor: Type.String(),
  createdAt: Type.String(),
  postings: Type.Optional(
    Type.Array(Type.Object({ accountId: Type.String(), kind: Type.String(), ownerId: Nullable(Type.String()), amount: Type.Integer() })),
  ),
});

export const TopUp = Type.Object({
  id: Type.String(),
  object: Type.Literal('top_up'),
  customerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  paymentMethod: Type.String(),
  status: Type.String(),
  refundedAmount: Type.Integer(),
  refundableAmount: Type.Integer(),
  transactionId: Type.String(),
  createdAt: Type.String(),
});

export const Charge = Type.Object({
  id: Type.String(),
  object: Type.Literal('charge'),
  customerId: Type.String(),
  providerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  description: Type.String(),
  commissionAmount: Type.Integer(),
  refundedAmount: Type.Integer(),
  refundableAmount: Type.Integer(),
  status: Type.String(),
  transactionId: Type.String(),
  createdAt: Type.String(),
});

export const Refund = Type.Object({
  id: Type.String(),
  object: Type.Literal('refund'),
  sourceType: Type.String(),
  sourceId: Type.String(),
  orderId: Nullable(Type.String()),
  customerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  destination: Type.String(),
  status: Type.String({ description: 'pending | succeeded | failed | reversed' }),
  reason: Nullable(Type.String()),
  failureReason: Nullable(Type.String()),
  attempts: Type.Integer(),
  transactionId: Nullable(Type.String()),
  explanation: Type.Unknown({ description: 'For order refunds: the quote lines that explain the amount.' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
};

const Open = { additionalProperties: true } as const;

export const OrderLine = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    quantity: Type.Integer(),
    unitAmount: Type.Integer(),
    amount: Type.Integer(),
    status: Type.String({ description: 'open | done | cancelled' }),
    startsAt: Nullable(Type.String()),
    endsAt: Nullable(Type.String()),
    participantName: Nullable(Type.String()),
    slotId: Nullable(Type.String()),
    serviceId: Nullable(Type.String()),
    refunded: Type.Integer(),
  },
  Open,
);

export const Order = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('order'),
    number: Type.String(),
    process: Type.String(),
    processVersion: Type.String(),
    state: Type.String(),
    awaiting: Nullable(Type.String()),
    deadline: Nullable(Type.Object({ at: Type.String(), action: Type.String() })),
    customerId: Type.String(),
    providerId: Type.String(),
    siteId: Nullable(Type.String()),
    currency: Type.String(),
    startsAt: Nullable(Type.String()),
    endsAt: Nullable(Type.String()),
    lines: Type.Array(OrderLine),
    amounts: Type.Object({
      subtotal: Type.Integer(),
      serviceFee: Type.Integer(),
      total: Type.Integer(),
      paid: Type.Integer(),
      refunded: Type.Integer(),
      refundable: Type.Integer({ description: "What staff can still refund: while the order holds its money, paid minus refunded; once it ended, what its provider payout has left while not paid yet." }),
    }),
    payout: Nullable(
      Type.Object({
        id: Type.String(),
        amount: Type.Integer({ description: 'Still to be paid (scheduled), paid, or 0 once refunded in full (cancelled).' }),
        status: Type.Union([Type.Literal('scheduled'), Type.Literal('paid'), Type.Literal('cancelled')]),
        dueAt: Type.String(),
        paidAt: Nullable(Type.String()),
      }),
    ),
    payments: Type.Array(Type.Object({ id: Type.String(), method: Type.String(), amount: Type.Integer(), refunded: Type.Integer() }, Open)),
    refunds: Type.Array(Refund),
  },
  Open,
);
