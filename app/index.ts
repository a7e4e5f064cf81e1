/**
 * Strata's public entry point (`import … from 'strata'`): everything a domain author
 * needs to define an app. An app imports Strata through this module only (and
 * `strata/testing` in its tests); everything else is the platform's own.
 */
export { Type, type Static, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';
export { defineApp, type App, type AppDefinition, type SettingValues } from './define-app.js';
export { appSetting, type Setting } from '../shared/config.js';
export { hasRole, type AccessRule, type Principal } from '../shared/auth/principal.js';
export { BusinessRuleError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.js';
export { identifierPattern } from '../shared/identifiers.js';
export type { EventEnvelope } from '../shared/event-envelope.js';
export { eventType, type EventData, type EventType } from '../shared/event-schemas.js';
export { fold, type Command, type DecideContext, type Decider, type DomainEvent } from '../write-side/decider/decider.js';
export { defineAggregate, type Aggregate } from '../write-side/decider/domain.js';
export { reaction, type Deadline, type Saga, type SagaCommand, type SagaInput, type SagaReaction } from '../write-side/saga/process-manager.js';
export {
  defineElasticsearchProjection,
  defineRedisProjection,
  type ElasticsearchProjection,
  type Projection,
  type RedisChange,
  type RedisProjection,
} from '../projections/projection.js';
export type { Document, RedisEffect } from '../stores/projection-sink.js';
export { defineQuery, type Query, type ReadContext, type SearchPage, type SearchSpec, type Versioned } from '../read-side/query-definition.js';
