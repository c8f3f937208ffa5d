// The IP math lives in schema/ so the node agent uses the same code as the portal.
export * from '@edgeport/schema/ip';
