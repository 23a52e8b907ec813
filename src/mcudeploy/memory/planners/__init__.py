"""Arena planners: TFLite Micro's greedy planner reproduced, and ours."""
