/**
 * A command's request as both sides of the write path check it: its aggregate id, the
 * version it expects, and its data against the schema its type declares. The gateway
 * checks every request it takes; a command processor checks again the commands a gateway
 * hands it directly, so that nothing reaches a decider unchecked whoever called.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { NotFoundError } from '../shared/errors.js';
import { identifierPattern } from '../shared/identifiers.js';
import { validationError } from '../shared/schema-validation.js';
import type { Domain } from './decider/domain.js';

export interface CommandBody {
  aggregateId: string;
  expectedVersion?: number;
  data: unknown;
}

export function commandBodySchema(dataSchema: TSchema): TSchema {
  return Type.Object(
    {
      aggregateId: Type.String({ pattern: identifierPattern }),
      expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
      data: dataSchema,
    },
    { additionalProperties: false },
  );
}

/** Checks a body against its command type's schema: NotFoundError for an unknown type, ValidationError naming the field. */
export type CommandValidator = (commandType: string, body: unknown) => CommandBody;

export function createCommandValidator(domain: Domain): CommandValidator {
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false });
  const validators = new Map<string, ValidateFunction>();
  return (commandType, body) => {
    let validate = validators.get(commandType);
    if (validate === undefined) {
      const dataSchema = domain.aggregateFor(commandType)?.commands[commandType];
      if (dataSchema === undefined) throw new NotFoundError(`unknown command type ${commandType}; known: ${domain.commandTypes.join(', ')}`);
      validate = ajv.compile(commandBodySchema(dataSchema));
      validators.set(commandType, validate);
    }
    if (!validate(body)) throw validationError(validate.errors);
    return body as CommandBody;
  };
}
