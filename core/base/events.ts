// Events for headless users of the core (the agent bot, the CLI): what arrived, once it is stored.

export type CoreEvent =
  | {
      type: "message_received";
      chat_id: string;
      message: { id: string; sender: string; kind: number; text: string; created_at: number; mine: boolean };
    }
  | { type: "invite_received"; invite: { id: string; from: string; group_name: string; received_at: number } };

export type CoreEventListener = (event: CoreEvent) => void;
