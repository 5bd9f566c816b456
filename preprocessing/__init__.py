"""Stage 2-3: colour science, image loading and cleaning, Lab WebDataset shards and the dataset card."""
